package v2_test

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
)

func listenerBody(extra string) string {
	return `{"listener": {"loadbalancer_id": "` + lbID + `", "protocol_port": 8080` + extra + `}}`
}

func TestCreateListenerDefaults(t *testing.T) {
	e := newEnv(t)
	e.activeGraph()
	resp := e.do(http.MethodPost, "/v2/lbaas/listeners", listenerBody(`, "protocol": "HTTP", "name": "l1", "project_id": "ignored"`))
	l := resp.expectStatus(http.StatusCreated).obj("listener")
	if l["provisioning_status"] != "PENDING_CREATE" || l["operating_status"] != "OFFLINE" || l["name"] != "l1" {
		t.Errorf("body %v", l)
	}
	spec := e.cmds.LastCall().Command.(loadbalancer.CreateListener).Spec
	want := events.Listener{
		ID: newID, ProjectID: "tenant-a", LoadBalancerID: lbID, Name: ptr("l1"), AdminStateUp: true,
		Protocol: "HTTP", ProtocolPort: 8080, ConnectionLimit: -1,
		TimeoutClientData: 50000, TimeoutMemberConnect: 5000, TimeoutMemberData: 50000, TimeoutTCPInspect: 0,
		ClientAuthentication: "NONE", InsertHeaders: map[string]string{},
	}
	if !reflect.DeepEqual(spec, want) {
		t.Errorf("spec\n got %+v\nwant %+v", spec, want)
	}
	if e.cmds.LastCall().LoadBalancerID != lbID {
		t.Errorf("command on %q", e.cmds.LastCall().LoadBalancerID)
	}
}

func TestCreateTerminatedHTTPSListener(t *testing.T) {
	e := newEnv(t)
	e.activeGraph()
	e.do(http.MethodPost, "/v2/lbaas/listeners", listenerBody(`, "protocol": "TERMINATED_HTTPS"`)).
		expectFault(400, "Validation failure: An SNI or default certificate container reference must be provided for TERMINATED_HTTPS protocol listeners.")
	e.do(http.MethodPost, "/v2/lbaas/listeners", listenerBody(`, "protocol": "TERMINATED_HTTPS", "default_tls_container_ref": "ref-1",
		"insert_headers": {"X-SSL-Client-CN": "true", "X-Forwarded-For": "true"}`)).expectStatus(http.StatusCreated)
	spec := e.cmds.LastCall().Command.(loadbalancer.CreateListener).Spec
	if *spec.DefaultTLSContainerRef != "ref-1" || spec.TLSCiphers == nil || *spec.TLSCiphers == "" ||
		!reflect.DeepEqual(spec.TLSVersions, []string{"TLSv1.2", "TLSv1.3"}) ||
		!reflect.DeepEqual(spec.ALPNProtocols, []string{"h2", "http/1.1", "http/1.0"}) ||
		spec.InsertHeaders["X-SSL-Client-CN"] != "true" {
		t.Errorf("spec %+v", spec)
	}
}

func TestCreateListenerRefused(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"unknown load balancer", `{"listener": {"loadbalancer_id": "` + unknownID + `", "protocol": "HTTP", "protocol_port": 80}}`, 404,
			"Load Balancer " + unknownID + " not found."},
		{"null protocol", listenerBody(`, "protocol": null`), 400, "Invalid input for field/attribute protocol. Value: 'None'. Mandatory field missing."},
		{"headers on TCP", listenerBody(`, "protocol": "TCP", "insert_headers": {"X-Forwarded-For": "true"}`), 400,
			"insert-headers is not a valid option for a TCP protocol listener."},
		{"unknown header", listenerBody(`, "protocol": "HTTP", "insert_headers": {"X-Forwarded-For": "true", "X-Bogus": "1"}`), 400,
			"dict_keys(['X-Forwarded-For', 'X-Bogus']) is not a valid option for insert_headers"},
		{"ssl header on HTTP", listenerBody(`, "protocol": "HTTP", "insert_headers": {"X-SSL-Client-CN": "true"}`), 400,
			"['X-SSL-Client-CN'] is not a valid option for HTTP protocol listener."},
		{"certificate on HTTP", listenerBody(`, "protocol": "HTTP", "default_tls_container_ref": "ref"`), 400,
			"Validation failure: Certificate container references are not allowed on HTTP protocol listeners."},
		{"TLS on UDP", listenerBody(`, "protocol": "UDP", "sni_container_refs": ["ref"]`), 400,
			"Validation failure: UDP protocol listener does not support TLS."},
		{"client auth without CA", listenerBody(`, "protocol": "TERMINATED_HTTPS", "default_tls_container_ref": "r", "client_authentication": "MANDATORY"`), 400,
			"Validation failure: Client authentication setting MANDATORY requires a client CA container reference."},
		{"CA without certificate", listenerBody(`, "protocol": "TERMINATED_HTTPS", "client_ca_tls_container_ref": "ca"`), 400,
			"Validation failure: An SNI or default certificate container reference must be provided with a client CA container reference."},
		{"CRL without CA", listenerBody(`, "protocol": "TERMINATED_HTTPS", "default_tls_container_ref": "r", "client_crl_container_ref": "crl"`), 400,
			"Validation failure: A client authentication CA reference is required to specify a client authentication revocation list."},
		{"IPv6 CIDR on IPv4 VIP", listenerBody(`, "protocol": "HTTP", "allowed_cidrs": ["10.0.0.0/8", "fd00::/8"]`), 400,
			"Validation failure: CIDR fd00::/8 IP version incompatible with VIP 10.0.0.10 IP version."},
		{"empty TLS versions", listenerBody(`, "protocol": "TERMINATED_HTTPS", "default_tls_container_ref": "r", "tls_versions": []`), 400,
			"Validation failure: Empty TLS version list. Either specify at least one TLS version or remove this parameter to use the default."},
		{"bad TLS version", listenerBody(`, "protocol": "TERMINATED_HTTPS", "default_tls_container_ref": "r", "tls_versions": ["TLSv1.2", "TLSv9"]`), 400,
			"Validation failure: Invalid TLS versions: TLSv9"},
		{"unknown default pool", listenerBody(`, "protocol": "HTTP", "default_pool_id": "` + unknownID + `"`), 404,
			"Pool " + unknownID + " not found."},
		{"incompatible default pool", listenerBody(`, "protocol": "UDP", "default_pool_id": "` + poolID + `"`), 400,
			"Validation failure: The pool protocol 'HTTP' is invalid while the listener protocol is 'UDP'."},
		{"prometheus has no children", listenerBody(`, "protocol": "PROMETHEUS", "default_pool_id": "` + poolID + `"`), 400,
			"Protocol PROMETHEUS listeners cannot have child objects."},
		{"default pool without protocol", listenerBody(`, "protocol": "HTTP", "default_pool": {"name": "p", "lb_algorithm": "ROUND_ROBIN"}`), 400,
			"Validation failure: Pool definition for 'p' missing required attribute: protocol"},
		{"default pool without algorithm or name", listenerBody(`, "protocol": "HTTP", "default_pool": {"protocol": "HTTP"}`), 400,
			"Validation failure: Pool definition for 'None' missing required attribute: lb_algorithm"},
		{"default pool with a bad monitor", listenerBody(`, "protocol": "HTTP", "default_pool": {"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
			"healthmonitor": {"type": "PING", "delay": 1, "timeout": 1, "max_retries": 1, "url_path": "/x"}}`), 400,
			"url_path is not a valid option for health monitors of type PING"},
		{"default pool member of a nested type error", listenerBody(`, "protocol": "HTTP", "default_pool": {"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
			"members": [{"address": "10.0.0.5", "protocol_port": 80, "weight": 1000}]}`), 400,
			"Invalid input for field/attribute weight. Value: '1000'. Value should be lower or equal to 256"},
		{"default pool with an unknown attribute", listenerBody(`, "protocol": "HTTP", "default_pool": {"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "listener_id": "x"}`), 400,
			"Unknown attribute for argument listener_.listener.default_pool: listener_id"},
		{"l7 policies", listenerBody(`, "protocol": "HTTP", "l7policies": [{"action": "REJECT"}]`), 400,
			"Validation failure: L7 policies are not supported yet; create the listener without l7policies."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.activeGraph()
			e.do(http.MethodPost, "/v2/lbaas/listeners", tt.body).expectFault(tt.status, tt.want)
			if n := e.cmds.CallCount(); n != 0 {
				t.Errorf("%d commands issued", n)
			}
		})
	}
}

func TestUpdateListener(t *testing.T) {
	e := newEnv(t)
	e.activeGraph()
	l := e.do(http.MethodPut, "/v2.0/lbaas/listeners/"+listID,
		`{"listener": {"timeout_client_data": null, "connection_limit": 10, "insert_headers": {"X-Forwarded-For": "true"}}}`).
		expectStatus(http.StatusOK).obj("listener")
	if l["provisioning_status"] != "PENDING_UPDATE" || l["timeout_client_data"] != float64(50000) || l["connection_limit"] != float64(10) {
		t.Errorf("body %v", l)
	}
	cmd := e.cmds.LastCall().Command.(loadbalancer.UpdateListener)
	if cmd.ListenerID != listID || string(cmd.Patch["timeout_client_data"]) != "50000" || string(cmd.Patch["connection_limit"]) != "10" {
		t.Errorf("command %+v", cmd)
	}
	e.do(http.MethodPut, "/v2/lbaas/listeners/"+unknownID, `{"listener": {}}`).expectFault(404, "Listener "+unknownID+" not found.")
	e.do(http.MethodPut, "/v2/lbaas/listeners/"+listID, `{"listener": {"protocol": "TCP"}}`).
		expectFault(400, "Unknown attribute for argument listener_.listener: protocol")
	e.do(http.MethodPut, "/v2/lbaas/listeners/"+listID, `{"listener": {"insert_headers": {"X-SSL-Issuer": "true"}}}`).
		expectFault(400, "['X-SSL-Issuer'] is not a valid option for HTTP protocol listener.")
	e.do(http.MethodPut, "/v2/lbaas/listeners/"+listID, `{"listener": {"client_authentication": null}}`).
		expectFault(400, "Validation failure: Client authentication setting None requires a client CA container reference.")
	e.do(http.MethodPut, "/v2/lbaas/listeners/"+listID, `{"listener": {"sni_container_refs": ["a"]}}`).
		expectFault(400, "Validation failure: Certificate container references are not allowed on HTTP protocol listeners.")
}

func TestGetListDeleteListener(t *testing.T) {
	e := newEnv(t)
	e.activeGraph()
	l := e.do(http.MethodGet, "/v2/lbaas/listeners/"+listID, "").expectStatus(200).obj("listener")
	if l["id"] != listID || l["protocol"] != "HTTP" || l["default_pool_id"] != poolID {
		t.Errorf("get %v", l)
	}
	list := e.do(http.MethodGet, "/v2/lbaas/listeners?loadbalancer_id="+lbID, "").expectStatus(200).json()
	if len(list["listeners"].([]any)) != 1 || list["listeners_links"] == nil {
		t.Errorf("list %v", list)
	}
	if f := e.read.LastList.Filters["loadbalancer_id"]; len(f) != 1 || f[0] != lbID {
		t.Errorf("filters %v", e.read.LastList.Filters)
	}
	e.do(http.MethodDelete, "/v2/lbaas/listeners/"+listID, "").expectStatus(http.StatusNoContent)
	if cmd, ok := e.cmds.LastCall().Command.(loadbalancer.DeleteListener); !ok || cmd.ListenerID != listID {
		t.Errorf("command %#v", e.cmds.LastCall().Command)
	}
	e.do(http.MethodDelete, "/v2/lbaas/listeners/"+unknownID, "").expectFault(404, "Listener "+unknownID+" not found.")
}
