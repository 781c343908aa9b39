package v2_test

import (
	"net/http"
	"testing"

	"github.com/octavia-es/octavia-es/http/server"
	v2 "github.com/octavia-es/octavia-es/http/v2"
)

// localCaps are the local amphorae's capabilities (HAProxy: no UDP, SCTP).
func localCaps(cfg *server.Config, _ *v2.Deps) {
	cfg.V2.Capabilities = v2.ProviderCapabilities{
		ListenerProtocols: []string{"HTTP", "HTTPS", "PROMETHEUS", "TCP", "TERMINATED_HTTPS"},
		PoolProtocols:     []string{"HTTP", "HTTPS", "PROXY", "PROXYV2", "TCP"},
	}
}

// A protocol the amphora driver in use cannot serve is Octavia's
// ProviderUnsupportedOptionError (501), for every way of creating the
// object, and nothing is recorded.
func TestProviderRefusesUnsupportedProtocols(t *testing.T) {
	const listeners = "TCP, HTTP, HTTPS, TERMINATED_HTTPS, PROMETHEUS"
	const pools = "TCP, HTTP, HTTPS, PROXY, PROXYV2"
	tests := []struct {
		name, path, body, want string
	}{
		{"UDP listener", "/v2/lbaas/listeners", listenerBody(`, "protocol": "UDP"`),
			"Provider 'amphora' does not support a requested option: Amphora provider does not support UDP protocol. Supported: " + listeners},
		{"SCTP listener", "/v2/lbaas/listeners", listenerBody(`, "protocol": "SCTP"`),
			"Provider 'amphora' does not support a requested option: Amphora provider does not support SCTP protocol. Supported: " + listeners},
		{"UDP pool", "/v2/lbaas/pools", `{"pool": {"loadbalancer_id": "` + lbID + `", "protocol": "UDP", "lb_algorithm": "ROUND_ROBIN"}}`,
			"Provider 'amphora' does not support a requested option: Amphora provider does not support UDP protocol. Supported: " + pools},
		{"UDP listener in a load balancer graph", "/v2/lbaas/loadbalancers",
			`{"loadbalancer": {"vip_subnet_id": "` + subnetID + `", "listeners": [{"protocol": "UDP", "protocol_port": 53}]}}`,
			"Provider 'amphora' does not support a requested option: Amphora provider does not support UDP protocol. Supported: " + listeners},
		{"SCTP pool in a load balancer graph", "/v2/lbaas/loadbalancers",
			`{"loadbalancer": {"vip_subnet_id": "` + subnetID + `", "pools": [{"name": "p", "protocol": "SCTP", "lb_algorithm": "ROUND_ROBIN"}]}}`,
			"Provider 'amphora' does not support a requested option: Amphora provider does not support SCTP protocol. Supported: " + pools},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, localCaps)
			e.activeGraph()
			before := e.cmds.CallCount()
			r := e.do(http.MethodPost, tt.path, tt.body)
			r.expectFault(http.StatusNotImplemented, tt.want)
			if m := r.json(); m["faultcode"] != "Server" {
				t.Errorf("faultcode %v, want Server (a 5xx of wsme)", m["faultcode"])
			}
			if n := e.cmds.CallCount(); n != before {
				t.Errorf("%d commands executed, want none", n-before)
			}
			if allocated, released := e.vips.Counts(); allocated != released {
				t.Errorf("VIPs allocated %d, released %d: a refused create keeps no VIP", allocated, released)
			}
		})
	}
}

// What the local amphorae serve passes the same check, and without
// capabilities (noop drivers) UDP is accepted as by Octavia's amphora
// provider.
func TestProviderAcceptsSupportedProtocols(t *testing.T) {
	e := newEnv(t, localCaps)
	e.activeGraph()
	e.do(http.MethodPost, "/v2/lbaas/listeners", listenerBody(`, "protocol": "TCP"`)).expectStatus(http.StatusCreated)

	e = newEnv(t)
	e.activeGraph()
	e.do(http.MethodPost, "/v2/lbaas/listeners", listenerBody(`, "protocol": "UDP"`)).expectStatus(http.StatusCreated)
	e = newEnv(t)
	e.activeGraph()
	e.do(http.MethodPost, "/v2/lbaas/pools", `{"pool": {"loadbalancer_id": "`+lbID+`", "protocol": "SCTP", "lb_algorithm": "ROUND_ROBIN"}}`).
		expectStatus(http.StatusCreated)
}
