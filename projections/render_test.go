package projections

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
)

func ptr[T any](v T) *T { return &v }

var (
	t0 = time.Date(2026, 11, 26, 2, 18, 44, 123456789, time.UTC)
	t1 = t0.Add(time.Minute)
)

const (
	lbID   = "11111111-1111-1111-1111-111111111111"
	lisA   = "22222222-2222-2222-2222-22222222222a"
	lisB   = "22222222-2222-2222-2222-22222222222b"
	poolID = "33333333-3333-3333-3333-333333333333"
	memA   = "44444444-4444-4444-4444-44444444444a"
	memB   = "44444444-4444-4444-4444-44444444444b"
	hmID   = "55555555-5555-5555-5555-555555555555"
	projID = "e3cd678b11784734bc366148aa37580e"
)

// sampleState is a hand-built graph: an LB with two listeners (A's default
// pool is the pool), one pool with two members and a monitor.
func sampleState() loadbalancer.State {
	s := loadbalancer.NewState()
	s.Exists = true
	s.LoadBalancer = loadbalancer.Node[events.LoadBalancer]{
		Spec: events.LoadBalancer{
			ID: lbID, ProjectID: projID, Name: ptr("web"), AdminStateUp: true,
			VipAddress: ptr("10.0.0.5"), VipPortID: ptr("66666666-6666-6666-6666-666666666666"),
			VipSubnetID: ptr("77777777-7777-7777-7777-777777777777"), VipNetworkID: ptr("88888888-8888-8888-8888-888888888888"),
			Provider: "amphora", Tags: []string{"prod"},
		},
		ProvisioningStatus: loadbalancer.Active, OperatingStatus: loadbalancer.Online,
		CreatedAt: t0, UpdatedAt: ptr(t1),
	}
	s.Listeners[lisB] = &loadbalancer.Node[events.Listener]{
		Spec: events.Listener{
			ID: lisB, ProjectID: projID, LoadBalancerID: lbID, AdminStateUp: true,
			Protocol: "TCP", ProtocolPort: 22, ConnectionLimit: -1,
			TimeoutClientData: 50000, TimeoutMemberConnect: 5000, TimeoutMemberData: 50000,
			ClientAuthentication: "NONE", AllowedCIDRs: []string{},
		},
		ProvisioningStatus: loadbalancer.PendingCreate, OperatingStatus: loadbalancer.Offline,
		CreatedAt: t1,
	}
	s.Listeners[lisA] = &loadbalancer.Node[events.Listener]{
		Spec: events.Listener{
			ID: lisA, ProjectID: projID, LoadBalancerID: lbID, Name: ptr("http"), Description: ptr("front"),
			AdminStateUp: true, Protocol: "HTTP", ProtocolPort: 80, ConnectionLimit: -1,
			DefaultPoolID: ptr(poolID), InsertHeaders: map[string]string{"X-Forwarded-For": "true"},
			TimeoutClientData: 50000, TimeoutMemberConnect: 5000, TimeoutMemberData: 50000,
			ClientAuthentication: "NONE", AllowedCIDRs: []string{"10.0.0.0/8"},
			TLSVersions: []string{}, ALPNProtocols: []string{},
		},
		ProvisioningStatus: loadbalancer.Active, OperatingStatus: loadbalancer.Online,
		CreatedAt: t0,
	}
	s.Pools[poolID] = &loadbalancer.Node[events.Pool]{
		Spec: events.Pool{
			ID: poolID, ProjectID: projID, LoadBalancerID: lbID, ListenerID: lisA, Name: ptr("pool"),
			AdminStateUp: true, Protocol: "HTTP", LBAlgorithm: "ROUND_ROBIN",
			SessionPersistence: &events.SessionPersistence{Type: "APP_COOKIE", CookieName: ptr("sid")},
			Tags:               []string{"a", "b"},
		},
		ProvisioningStatus: loadbalancer.Active, OperatingStatus: loadbalancer.Online,
		CreatedAt: t0,
	}
	s.Members[memB] = &loadbalancer.Node[events.Member]{
		Spec: events.Member{
			ID: memB, ProjectID: projID, PoolID: poolID, AdminStateUp: true,
			Address: "192.0.2.11", ProtocolPort: 8080, Weight: 1,
		},
		ProvisioningStatus: loadbalancer.Active, OperatingStatus: loadbalancer.NoMonitor, CreatedAt: t0,
	}
	s.Members[memA] = &loadbalancer.Node[events.Member]{
		Spec: events.Member{
			ID: memA, ProjectID: projID, PoolID: poolID, Name: ptr("m1"), AdminStateUp: true,
			Address: "192.0.2.10", ProtocolPort: 8080, Weight: 10, Backup: true,
			SubnetID: ptr("77777777-7777-7777-7777-777777777777"), MonitorAddress: ptr("192.0.2.100"), MonitorPort: ptr(9000),
		},
		ProvisioningStatus: loadbalancer.Active, OperatingStatus: loadbalancer.Online, CreatedAt: t0,
	}
	s.HealthMonitors[hmID] = &loadbalancer.Node[events.HealthMonitor]{
		Spec: events.HealthMonitor{
			ID: hmID, ProjectID: projID, PoolID: poolID, AdminStateUp: true, Type: "HTTP",
			Delay: 5, Timeout: 3, MaxRetries: 3, MaxRetriesDown: 3,
			HTTPMethod: ptr("GET"), URLPath: ptr("/"), ExpectedCodes: ptr("200"), HTTPVersion: ptr(1.0),
		},
		ProvisioningStatus: loadbalancer.Active, OperatingStatus: loadbalancer.Online, CreatedAt: t0,
	}
	return s
}

func compact(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("golden is not JSON: %v", err)
	}
	return b.String()
}

func TestRenderGolden(t *testing.T) {
	s := sampleState()
	mustRender := func(v any, ok bool) any {
		if !ok {
			t.Fatal("object not rendered")
		}
		return v
	}
	cases := []struct {
		name   string
		view   any
		golden string
	}{
		{"loadbalancer", RenderLoadBalancer(s), `{
			"id": "11111111-1111-1111-1111-111111111111", "name": "web", "description": "",
			"provisioning_status": "ACTIVE", "operating_status": "ONLINE", "admin_state_up": true,
			"project_id": "e3cd678b11784734bc366148aa37580e", "tenant_id": "e3cd678b11784734bc366148aa37580e",
			"created_at": "2026-11-26T02:18:44", "updated_at": "2026-11-26T02:19:44",
			"vip_address": "10.0.0.5", "vip_port_id": "66666666-6666-6666-6666-666666666666",
			"vip_subnet_id": "77777777-7777-7777-7777-777777777777", "vip_network_id": "88888888-8888-8888-8888-888888888888",
			"additional_vips": [],
			"listeners": [{"id": "22222222-2222-2222-2222-22222222222a"}, {"id": "22222222-2222-2222-2222-22222222222b"}],
			"pools": [{"id": "33333333-3333-3333-3333-333333333333"}],
			"provider": "amphora", "flavor_id": null, "vip_qos_policy_id": null, "tags": ["prod"],
			"availability_zone": null}`},
		{"listener", mustRender(RenderListener(s, lisA)), `{
			"id": "22222222-2222-2222-2222-22222222222a", "name": "http", "description": "front",
			"provisioning_status": "ACTIVE", "operating_status": "ONLINE", "admin_state_up": true,
			"protocol": "HTTP", "protocol_port": 80, "connection_limit": -1,
			"default_tls_container_ref": null, "sni_container_refs": [],
			"project_id": "e3cd678b11784734bc366148aa37580e", "tenant_id": "e3cd678b11784734bc366148aa37580e",
			"default_pool_id": "33333333-3333-3333-3333-333333333333", "l7policies": [],
			"insert_headers": {"X-Forwarded-For": "true"},
			"created_at": "2026-11-26T02:18:44", "updated_at": null,
			"loadbalancers": [{"id": "11111111-1111-1111-1111-111111111111"}],
			"timeout_client_data": 50000, "timeout_member_connect": 5000, "timeout_member_data": 50000,
			"timeout_tcp_inspect": 0, "tags": [], "client_ca_tls_container_ref": null,
			"client_authentication": "NONE", "client_crl_container_ref": null,
			"allowed_cidrs": ["10.0.0.0/8"], "tls_ciphers": null, "tls_versions": [], "alpn_protocols": []}`},
		{"listener without name, cidrs", mustRender(RenderListener(s, lisB)), `{
			"id": "22222222-2222-2222-2222-22222222222b", "name": "", "description": "",
			"provisioning_status": "PENDING_CREATE", "operating_status": "OFFLINE", "admin_state_up": true,
			"protocol": "TCP", "protocol_port": 22, "connection_limit": -1,
			"default_tls_container_ref": null, "sni_container_refs": [],
			"project_id": "e3cd678b11784734bc366148aa37580e", "tenant_id": "e3cd678b11784734bc366148aa37580e",
			"default_pool_id": null, "l7policies": [], "insert_headers": null,
			"created_at": "2026-11-26T02:19:44", "updated_at": null,
			"loadbalancers": [{"id": "11111111-1111-1111-1111-111111111111"}],
			"timeout_client_data": 50000, "timeout_member_connect": 5000, "timeout_member_data": 50000,
			"timeout_tcp_inspect": 0, "tags": [], "client_ca_tls_container_ref": null,
			"client_authentication": "NONE", "client_crl_container_ref": null,
			"allowed_cidrs": null, "tls_ciphers": null, "tls_versions": null, "alpn_protocols": null}`},
		{"pool", mustRender(RenderPool(s, poolID)), `{
			"id": "33333333-3333-3333-3333-333333333333", "name": "pool", "description": "",
			"provisioning_status": "ACTIVE", "operating_status": "ONLINE", "admin_state_up": true,
			"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
			"session_persistence": {"type": "APP_COOKIE", "cookie_name": "sid", "persistence_timeout": null, "persistence_granularity": null},
			"project_id": "e3cd678b11784734bc366148aa37580e", "tenant_id": "e3cd678b11784734bc366148aa37580e",
			"loadbalancers": [{"id": "11111111-1111-1111-1111-111111111111"}],
			"listeners": [{"id": "22222222-2222-2222-2222-22222222222a"}],
			"created_at": "2026-11-26T02:18:44", "updated_at": null,
			"healthmonitor_id": "55555555-5555-5555-5555-555555555555",
			"members": [{"id": "44444444-4444-4444-4444-44444444444a"}, {"id": "44444444-4444-4444-4444-44444444444b"}],
			"tags": ["a", "b"], "tls_container_ref": null, "ca_tls_container_ref": null, "crl_container_ref": null,
			"tls_enabled": false, "tls_ciphers": null, "tls_versions": null, "alpn_protocols": null}`},
		{"member", mustRender(RenderMember(s, memA)), `{
			"id": "44444444-4444-4444-4444-44444444444a", "name": "m1",
			"operating_status": "ONLINE", "provisioning_status": "ACTIVE", "admin_state_up": true,
			"address": "192.0.2.10", "protocol_port": 8080, "weight": 10, "backup": true,
			"subnet_id": "77777777-7777-7777-7777-777777777777",
			"project_id": "e3cd678b11784734bc366148aa37580e", "tenant_id": "e3cd678b11784734bc366148aa37580e",
			"created_at": "2026-11-26T02:18:44", "updated_at": null,
			"monitor_address": "192.0.2.100", "monitor_port": 9000, "tags": []}`},
		{"healthmonitor", mustRender(RenderHealthMonitor(s, hmID)), `{
			"id": "55555555-5555-5555-5555-555555555555", "name": "",
			"provisioning_status": "ACTIVE", "operating_status": "ONLINE", "admin_state_up": true,
			"type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 3, "max_retries_down": 3,
			"http_method": "GET", "url_path": "/", "expected_codes": "200", "http_version": 1.0,
			"domain_name": null,
			"project_id": "e3cd678b11784734bc366148aa37580e", "tenant_id": "e3cd678b11784734bc366148aa37580e",
			"pools": [{"id": "33333333-3333-3333-3333-333333333333"}],
			"created_at": "2026-11-26T02:18:44", "updated_at": null, "tags": []}`},
		{"status tree", RenderStatusTree(s), `{"loadbalancer": {
			"id": "11111111-1111-1111-1111-111111111111", "name": "web",
			"operating_status": "ONLINE", "provisioning_status": "ACTIVE",
			"listeners": [
				{"id": "22222222-2222-2222-2222-22222222222a", "name": "http",
				 "operating_status": "ONLINE", "provisioning_status": "ACTIVE",
				 "pools": [{"id": "33333333-3333-3333-3333-333333333333", "name": "pool",
					"provisioning_status": "ACTIVE", "operating_status": "ONLINE",
					"health_monitor": {"id": "55555555-5555-5555-5555-555555555555", "name": "", "type": "HTTP",
						"provisioning_status": "ACTIVE", "operating_status": "ONLINE"},
					"members": [
						{"id": "44444444-4444-4444-4444-44444444444a", "name": "m1", "operating_status": "ONLINE",
						 "provisioning_status": "ACTIVE", "address": "192.0.2.10", "protocol_port": 8080},
						{"id": "44444444-4444-4444-4444-44444444444b", "name": "", "operating_status": "NO_MONITOR",
						 "provisioning_status": "ACTIVE", "address": "192.0.2.11", "protocol_port": 8080}]}]},
				{"id": "22222222-2222-2222-2222-22222222222b", "name": "",
				 "operating_status": "OFFLINE", "provisioning_status": "PENDING_CREATE", "pools": []}]}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := json.Marshal(c.view)
			if err != nil {
				t.Fatal(err)
			}
			if want := compact(t, c.golden); string(got) != want {
				t.Errorf("JSON differs\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

func TestRenderEdgeCases(t *testing.T) {
	s := sampleState()
	s.LoadBalancer.Spec.Provider = ""
	s.LoadBalancer.Spec.Tags = nil
	if v := RenderLoadBalancer(s); v.Provider != "octavia" || v.Tags == nil || len(v.Tags) != 0 {
		t.Errorf("provider %q tags %#v: want octavia and []", v.Provider, v.Tags)
	}
	for _, id := range []string{"nope"} {
		if _, ok := RenderListener(s, id); ok {
			t.Error("unknown listener rendered")
		}
		if _, ok := RenderPool(s, id); ok {
			t.Error("unknown pool rendered")
		}
		if _, ok := RenderMember(s, id); ok {
			t.Error("unknown member rendered")
		}
		if _, ok := RenderHealthMonitor(s, id); ok {
			t.Error("unknown health monitor rendered")
		}
	}

	// A pool with neither monitor nor members: no health_monitor key.
	delete(s.HealthMonitors, hmID)
	delete(s.Members, memA)
	delete(s.Members, memB)
	p, _ := RenderPool(s, poolID)
	if p.HealthMonitorID != nil || p.Members == nil || len(p.Members) != 0 {
		t.Errorf("pool: healthmonitor_id %v members %#v", p.HealthMonitorID, p.Members)
	}
	b, _ := json.Marshal(RenderStatusTree(s))
	if bytes.Contains(b, []byte("health_monitor")) {
		t.Errorf("status tree has health_monitor key: %s", b)
	}

	// pool.listeners follows default_pool_id, even away from the listener
	// the pool was created for.
	s.Listeners[lisA].Spec.DefaultPoolID = nil
	if p, _ := RenderPool(s, poolID); len(p.Listeners) != 0 {
		t.Errorf("pool listeners %v: listener points elsewhere", p.Listeners)
	}
	s.Listeners[lisB].Spec.DefaultPoolID = ptr(poolID)
	if p, _ := RenderPool(s, poolID); len(p.Listeners) != 1 || p.Listeners[0].ID != lisB {
		t.Errorf("pool listeners %v: want [%s]", p.Listeners, lisB)
	}
}

func TestHealthMonitorHTTPVersionJSON(t *testing.T) {
	cases := []struct {
		v    *float64
		want string
	}{{nil, `"http_version":null`}, {ptr(1.0), `"http_version":1.0`}, {ptr(1.1), `"http_version":1.1`}}
	for _, c := range cases {
		b, err := json.Marshal(HealthMonitorView{HTTPVersion: c.v, Name: ptr(`,"http_version":2`)})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(c.want)) {
			t.Errorf("%s lacks %s", b, c.want)
		}
		var back HealthMonitorView
		if err := json.Unmarshal(b, &back); err != nil || *back.Name != `,"http_version":2` {
			t.Errorf("round trip: %v %v", err, back.Name)
		}
	}
}
