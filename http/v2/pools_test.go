package v2_test

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/projections"
)

func TestCreatePool(t *testing.T) {
	e := newEnv(t)
	e.activeGraph()
	p := e.do(http.MethodPost, "/v2/lbaas/pools", `{"pool": {"loadbalancer_id": "`+lbID+`", "protocol": "HTTP",
		"lb_algorithm": "ROUND_ROBIN", "session_persistence": {"type": "APP_COOKIE", "cookie_name": "sid"}}}`).
		expectStatus(http.StatusCreated).obj("pool")
	if p["provisioning_status"] != "PENDING_CREATE" || p["lb_algorithm"] != "ROUND_ROBIN" {
		t.Errorf("body %v", p)
	}
	spec := e.cmds.LastCall().Command.(loadbalancer.CreatePool).Spec
	want := events.Pool{ID: newID, ProjectID: "tenant-a", LoadBalancerID: lbID, AdminStateUp: true, Protocol: "HTTP",
		LBAlgorithm: "ROUND_ROBIN", SessionPersistence: &events.SessionPersistence{Type: "APP_COOKIE", CookieName: ptr("sid")}}
	if !reflect.DeepEqual(spec, want) {
		t.Errorf("spec\n got %+v\nwant %+v", spec, want)
	}
}

func TestCreatePoolForListener(t *testing.T) {
	e := newEnv(t)
	e.activeGraph()
	// a second listener without a default pool, known to the read model
	s := e.state()
	l2 := "66666666-6666-4666-8666-666666666666"
	s.Listeners[l2] = &loadbalancer.Node[events.Listener]{Spec: events.Listener{ID: l2, LoadBalancerID: lbID, Protocol: "TCP", ProtocolPort: 443},
		ProvisioningStatus: loadbalancer.Active}
	e.cmds.Put(s)
	e.read.Listeners[l2], _ = projections.RenderListener(s, l2)
	e.do(http.MethodPost, "/v2/lbaas/pools", `{"pool": {"listener_id": "`+l2+`", "protocol": "PROXY", "lb_algorithm": "SOURCE_IP", "tls_enabled": true}}`).
		expectStatus(http.StatusCreated)
	call := e.cmds.LastCall()
	spec := call.Command.(loadbalancer.CreatePool).Spec
	if call.LoadBalancerID != lbID || spec.ListenerID != l2 || spec.LoadBalancerID != lbID || !spec.TLSEnabled ||
		spec.TLSCiphers == nil || !reflect.DeepEqual(spec.TLSVersions, []string{"TLSv1.2", "TLSv1.3"}) {
		t.Errorf("call on %q, spec %+v", call.LoadBalancerID, spec)
	}
}

func TestCreatePoolRefused(t *testing.T) {
	lb := `"loadbalancer_id": "` + lbID + `", `
	tests := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"no parent", `{"pool": {"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}}`, 400,
			"Validation failure: Must provide at least one of: loadbalancer_id, listener_id"},
		{"unknown listener", `{"pool": {"listener_id": "` + unknownID + `", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}}`, 404,
			"Listener " + unknownID + " not found."},
		{"unknown load balancer", `{"pool": {"loadbalancer_id": "` + unknownID + `", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}}`, 404,
			"Load Balancer " + unknownID + " not found."},
		{"protocol mismatch", `{"pool": {"listener_id": "` + listID + `", "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"}}`, 400,
			"Validation failure: The pool protocol 'TCP' is invalid while the listener protocol is 'HTTP'."},
		{"listener has a default pool", `{"pool": {"listener_id": "` + listID + `", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}}`, 409,
			"This listener already has a default pool"},
		{"app cookie without name", `{"pool": {` + lb + `"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "session_persistence": {"type": "APP_COOKIE"}}}`, 400,
			`Validation failure: Field "cookie_name" must be specified when using the "APP_COOKIE" session persistence type.`},
		{"cookie name on source ip", `{"pool": {` + lb + `"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "session_persistence": {"type": "SOURCE_IP", "cookie_name": "c"}}}`, 400,
			`Validation failure: Field "cookie_name" can only be specified with session persistence of type "APP_COOKIE".`},
		{"bad cookie name", `{"pool": {` + lb + `"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "session_persistence": {"type": "APP_COOKIE", "cookie_name": "a=b"}}}`, 400,
			`Validation failure: Supplied "cookie_name" is invalid.`},
		{"timeout on HTTP pool", `{"pool": {` + lb + `"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "session_persistence": {"type": "SOURCE_IP", "persistence_timeout": 5}}}`, 400,
			"Validation failure: persistence_timeout and persistence_granularity is only for UDP and SCTP protocol pools."},
		{"cookie on UDP pool", `{"pool": {` + lb + `"protocol": "UDP", "lb_algorithm": "ROUND_ROBIN", "session_persistence": {"type": "HTTP_COOKIE"}}}`, 400,
			"Validation failure: Session persistence of type HTTP_COOKIE is not supported for UDP/SCTP protocol pools."},
		{"CRL without CA", `{"pool": {` + lb + `"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "crl_container_ref": "crl"}}`, 400,
			"Validation failure: A CA certificate reference is required to specify a revocation list."},
		{"reserved member address", `{"pool": {` + lb + `"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "members": [{"address": "169.254.169.254", "protocol_port": 80}]}}`, 400,
			"169.254.169.254 is not a valid option for member address"},
		{"member on an unknown subnet", `{"pool": {` + lb + `"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "members": [{"address": "10.0.0.1", "protocol_port": 80, "subnet_id": "` + unknownID + `"}]}}`, 400,
			"Subnet " + unknownID + " not found."},
		{"member without port", `{"pool": {` + lb + `"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "members": [{"address": "10.0.0.1"}]}}`, 400,
			"Invalid input for field/attribute protocol_port. Value: 'None'. Mandatory field missing."},
		{"monitor of UDP type on an HTTP pool", `{"pool": {` + lb + `"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "healthmonitor": {"type": "UDP-CONNECT", "delay": 5, "timeout": 3, "max_retries": 3}}}`, 400,
			"Validation failure: The UDP-CONNECT type is only supported for pools of type UDP/SCTP."},
		{"monitor with pool_id", `{"pool": {` + lb + `"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "healthmonitor": {"type": "TCP", "delay": 5, "timeout": 3, "max_retries": 3, "pool_id": "` + poolID + `"}}}`, 400,
			"Unknown attribute for argument pool_.pool.healthmonitor: pool_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.activeGraph()
			e.do(http.MethodPost, "/v2/lbaas/pools", tt.body).expectFault(tt.status, tt.want)
			if n := e.cmds.CallCount(); n != 0 {
				t.Errorf("%d commands issued", n)
			}
		})
	}
}

func TestUpdatePool(t *testing.T) {
	e := newEnv(t)
	e.activeGraph()
	s := e.state()
	s.Pools[poolID].Spec.SessionPersistence = &events.SessionPersistence{Type: "APP_COOKIE", CookieName: ptr("old")}
	e.cmds.Put(s)
	p := e.do(http.MethodPut, "/v2/lbaas/pools/"+poolID,
		`{"pool": {"lb_algorithm": "LEAST_CONNECTIONS", "session_persistence": {"cookie_name": "new"}, "tls_versions": null}}`).
		expectStatus(http.StatusOK).obj("pool")
	if p["lb_algorithm"] != "LEAST_CONNECTIONS" || p["provisioning_status"] != "PENDING_UPDATE" {
		t.Errorf("body %v", p)
	}
	cmd := e.cmds.LastCall().Command.(loadbalancer.UpdatePool)
	got := map[string]string{}
	for k, v := range cmd.Patch {
		got[k] = string(v)
	}
	want := map[string]string{
		"lb_algorithm":        `"LEAST_CONNECTIONS"`,
		"session_persistence": `{"cookie_name":"new","persistence_granularity":null,"persistence_timeout":null,"type":"APP_COOKIE"}`,
		"tls_versions":        `["TLSv1.2","TLSv1.3"]`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("patch\n got %v\nwant %v", got, want)
	}
	e.do(http.MethodPut, "/v2/lbaas/pools/"+poolID, `{"pool": {"session_persistence": {"cookie_name": "x"}}}`).expectStatus(http.StatusOK)

	e.activeGraph() // no session persistence
	e.do(http.MethodPut, "/v2/lbaas/pools/"+poolID, `{"pool": {"session_persistence": {"cookie_name": "x"}}}`).
		expectFault(400, "Validation failure: Invalid session_persistence provided.")
	e.do(http.MethodPut, "/v2/lbaas/pools/"+poolID, `{"pool": {"crl_container_ref": "crl"}}`).
		expectFault(400, "Validation failure: A CA reference is required to specify a certificate revocation list.")
	e.do(http.MethodPut, "/v2/lbaas/pools/"+poolID, `{"pool": {"session_persistence": {"type": "SOURCE_IP", "persistence_granularity": "255.255.255.0"}}}`).
		expectFault(400, "Validation failure: persistence_timeout and persistence_granularity is only for UDP protocol pools.")
	e.do(http.MethodPut, "/v2/lbaas/pools/"+unknownID, `{"pool": {}}`).expectFault(404, "Pool "+unknownID+" not found.")
}

func TestGetDeletePool(t *testing.T) {
	e := newEnv(t)
	e.activeGraph()
	p := e.do(http.MethodGet, "/v2/lbaas/pools/"+poolID, "").expectStatus(200).obj("pool")
	if p["id"] != poolID || p["healthmonitor_id"] != hmID {
		t.Errorf("get %v", p)
	}
	e.do(http.MethodGet, "/v2/lbaas/pools", "").expectStatus(200)
	e.do(http.MethodDelete, "/v2/lbaas/pools/"+poolID, "").expectStatus(http.StatusNoContent)
	if cmd, ok := e.cmds.LastCall().Command.(loadbalancer.DeletePool); !ok || cmd.PoolID != poolID {
		t.Errorf("command %#v", e.cmds.LastCall().Command)
	}
	e.do(http.MethodGet, "/v2/lbaas/pools/"+unknownID, "").expectFault(404, "Pool "+unknownID+" not found.")
}
