package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"syscall"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/monitors"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
)

// TestFullyPopulatedCreate: one gophercloud call creates a load balancer with
// two listeners, two pools, a monitor and members (Octavia's single-call
// create). The 201 carries every object in PENDING_CREATE and the VIP; the
// one create saga settles them all to ACTIVE.
func TestFullyPopulatedCreate(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{})
	ctx := context.Background()
	gc := newGopherClient(t, srv.URL, projectA)
	c := newRawClient(srv.URL, projectA)

	weight := 5
	lb, err := loadbalancers.Create(ctx, gc, loadbalancers.CreateOpts{
		Name: "graph", VipSubnetID: defaultSubnet,
		Listeners: []listeners.CreateOpts{
			{Name: "http", Protocol: listeners.ProtocolHTTP, ProtocolPort: 80,
				DefaultPool: &pools.CreateOpts{Name: "web", Protocol: pools.ProtocolHTTP, LBMethod: pools.LBMethodRoundRobin,
					Members: []pools.CreateMemberOpts{
						{Name: "m1", Address: "127.0.0.21", ProtocolPort: 8080},
						{Name: "m2", Address: "127.0.0.22", ProtocolPort: 8080, Weight: &weight},
					},
					Monitor: monitors.CreateOpts{Name: "hm", Type: monitors.TypeHTTP, Delay: 1, Timeout: 1, MaxRetries: 1, URLPath: "/health"},
				}},
			{Name: "tcp", Protocol: listeners.ProtocolTCP, ProtocolPort: 22},
		},
		Pools: []pools.CreateOpts{{Name: "spare", Protocol: pools.ProtocolTCP, LBMethod: pools.LBMethodSourceIp}},
	}).Extract()
	noErr(t, "create fully populated lb", err)

	// The 201: the VIP is already allocated, every object is a whole
	// object in PENDING_CREATE.
	vip, perr := netip.ParseAddr(lb.VipAddress)
	if perr != nil || !netip.MustParsePrefix(vipCIDR).Contains(vip) || lb.VipPortID == "" || lb.VipNetworkID != defaultNetwork {
		t.Errorf("201 VIP: address %q port %q network %q, want an address of %s on %s", lb.VipAddress, lb.VipPortID, lb.VipNetworkID, vipCIDR, defaultNetwork)
	}
	if lb.ProvisioningStatus != "PENDING_CREATE" || len(lb.Listeners) != 2 || len(lb.Pools) != 2 {
		t.Fatalf("201: %s with %d listeners and %d pools", lb.ProvisioningStatus, len(lb.Listeners), len(lb.Pools))
	}
	byName := map[string]string{}
	for _, l := range lb.Listeners {
		byName["listener "+l.Name] = l.ID
		if l.ProvisioningStatus != "PENDING_CREATE" {
			t.Errorf("201 listener %s: %s", l.Name, l.ProvisioningStatus)
		}
	}
	var web pools.Pool
	for _, p := range lb.Pools {
		byName["pool "+p.Name] = p.ID
		if p.Name == "web" {
			web = p
		}
	}
	if len(web.Members) != 2 || web.Monitor.ID == "" || web.Monitor.URLPath != "/health" || web.Monitor.ProvisioningStatus != "PENDING_CREATE" {
		t.Fatalf("201 pool web: %d members, monitor %+v", len(web.Members), web.Monitor)
	}
	memberIDs := []string{web.Members[0].ID, web.Members[1].ID}
	for _, m := range web.Members {
		if m.ProvisioningStatus != "PENDING_CREATE" || m.OperatingStatus != "OFFLINE" {
			t.Errorf("201 member %s: %s/%s, want PENDING_CREATE/OFFLINE (its pool has a monitor)", m.Name, m.ProvisioningStatus, m.OperatingStatus)
		}
	}

	lbPath := "/v2/lbaas/loadbalancers/" + lb.ID
	lbObj := waitActive(t, c, lb.ID)
	wantFields(t, "active lb", lbObj, map[string]any{"vip_address": lb.VipAddress, "vip_port_id": lb.VipPortID})
	wantIDRefs(t, "lb listeners", lbObj["listeners"], byName["listener http"], byName["listener tcp"])
	wantIDRefs(t, "lb pools", lbObj["pools"], web.ID, byName["pool spare"])

	// Every object of the graph settled with the load balancer.
	for _, o := range []struct{ path, root string }{
		{"/v2/lbaas/listeners/" + byName["listener http"], "listener"},
		{"/v2/lbaas/listeners/" + byName["listener tcp"], "listener"},
		{"/v2/lbaas/pools/" + web.ID, "pool"},
		{"/v2/lbaas/pools/" + byName["pool spare"], "pool"},
		{"/v2/lbaas/healthmonitors/" + web.Monitor.ID, "healthmonitor"},
		{"/v2/lbaas/pools/" + web.ID + "/members/" + memberIDs[0], "member"},
		{"/v2/lbaas/pools/" + web.ID + "/members/" + memberIDs[1], "member"},
	} {
		r := c.get(t, o.path)
		mustStatus(t, "GET "+o.path, r, http.StatusOK)
		wantFields(t, o.path, objectAt(t, r, o.root), map[string]any{"provisioning_status": "ACTIVE"})
	}
	wantFields(t, "listener http", objectAt(t, c.get(t, "/v2/lbaas/listeners/"+byName["listener http"]), "listener"),
		map[string]any{"default_pool_id": web.ID, "protocol_port": 80})
	wantFields(t, "monitor", objectAt(t, c.get(t, "/v2/lbaas/healthmonitors/"+web.Monitor.ID), "healthmonitor"),
		map[string]any{"operating_status": "ONLINE", "url_path": "/health", "pools": []any{map[string]any{"id": web.ID}}})

	// The status tree is complete: the HTTP listener with its pool, monitor
	// and members; the TCP listener without a pool.
	r := c.get(t, lbPath+"/status")
	mustStatus(t, "GET status", r, http.StatusOK)
	tree := objectAt(t, r, "statuses")["loadbalancer"].(map[string]any)
	wantFields(t, "status lb", tree, map[string]any{"name": "graph", "provisioning_status": "ACTIVE"})
	for _, l := range tree["listeners"].([]any) {
		l := l.(map[string]any)
		wantFields(t, "status listener", l, map[string]any{"provisioning_status": "ACTIVE"})
		pls := l["pools"].([]any)
		switch l["name"] {
		case "tcp":
			if len(pls) != 0 {
				t.Errorf("status tree: tcp listener has pools %v", pls)
			}
		case "http":
			if len(pls) != 1 {
				t.Fatalf("status tree: http listener pools %v", pls)
			}
			p := pls[0].(map[string]any)
			wantFields(t, "status pool", p, map[string]any{"id": web.ID, "name": "web", "provisioning_status": "ACTIVE"})
			wantFields(t, "status monitor", p["health_monitor"].(map[string]any),
				map[string]any{"id": web.Monitor.ID, "provisioning_status": "ACTIVE", "operating_status": "ONLINE"})
			var got []string
			for _, m := range p["members"].([]any) {
				m := m.(map[string]any)
				wantFields(t, "status member", m, map[string]any{"provisioning_status": "ACTIVE", "operating_status": "OFFLINE"})
				got = append(got, fmt.Sprint(m["id"]))
			}
			wantIDRefs(t, "status members", idRefs(got), memberIDs...)
		default:
			t.Errorf("status tree: unexpected listener %v", l)
		}
	}

	// The whole graph goes with one cascade delete.
	mustStatus(t, "cascade delete", c.do(t, request{Method: http.MethodDelete, Path: lbPath + "?cascade=true"}), http.StatusNoContent)
	waitGone(t, c, lbPath)
}

// TestFullyPopulatedCreateJSON checks the exact shape of the 201 (Octavia's
// LoadBalancerFullResponse) and the name references gophercloud cannot
// send: a listener's default_pool given by name only.
func TestFullyPopulatedCreateJSON(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{})
	c := newRawClient(srv.URL, projectA)
	r := c.do(t, request{Method: http.MethodPost, Path: "/v2/lbaas/loadbalancers", Body: `{"loadbalancer": {
		"name": "named", "vip_subnet_id": "` + defaultSubnet + `",
		"pools": [{"name": "shared", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
			"healthmonitor": {"type": "TCP", "delay": 1, "timeout": 1, "max_retries": 1},
			"members": [{"address": "127.0.0.31", "protocol_port": 80}]}],
		"listeners": [
			{"name": "a", "protocol": "HTTP", "protocol_port": 80, "default_pool": {"name": "shared"}},
			{"name": "b", "protocol": "HTTP", "protocol_port": 81, "default_pool": {"name": "shared"}}]}}`})
	mustStatus(t, "create", r, http.StatusCreated)
	lb := objectAt(t, r, "loadbalancer")
	if s, _ := lb["vip_address"].(string); s == "" {
		t.Errorf("201 without vip_address: %s", r)
	}
	pls, _ := lb["pools"].([]any)
	lns, _ := lb["listeners"].([]any)
	if len(pls) != 1 || len(lns) != 2 {
		t.Fatalf("201 pools %d listeners %d: %s", len(pls), len(lns), r)
	}
	pool := pls[0].(map[string]any)
	wantKeys(t, "full pool", pool, "id", "name", "description", "provisioning_status", "operating_status", "admin_state_up",
		"protocol", "lb_algorithm", "session_persistence", "project_id", "tenant_id", "listeners", "created_at", "updated_at",
		"members", "healthmonitor", "tags", "tls_container_ref", "ca_tls_container_ref", "crl_container_ref", "tls_enabled",
		"tls_ciphers", "tls_versions", "alpn_protocols")
	wantIDRefs(t, "pool listeners", pool["listeners"], ids(objects(lns))...)
	hm := pool["healthmonitor"].(map[string]any)
	wantKeys(t, "full monitor", hm, "id", "name", "type", "delay", "timeout", "max_retries", "max_retries_down", "http_method",
		"url_path", "expected_codes", "admin_state_up", "project_id", "tenant_id", "provisioning_status", "operating_status",
		"created_at", "updated_at", "tags", "http_version", "domain_name")
	member := pool["members"].([]any)[0].(map[string]any)
	wantFields(t, "full member", member, map[string]any{"address": "127.0.0.31", "provisioning_status": "PENDING_CREATE", "operating_status": "OFFLINE"})
	for _, l := range lns {
		l := l.(map[string]any)
		wantFields(t, "full listener", l, map[string]any{"default_pool_id": pool["id"], "l7policies": []any{}, "provisioning_status": "PENDING_CREATE"})
		if _, has := l["loadbalancers"]; has {
			t.Errorf("full listener has loadbalancers: %v", l)
		}
	}
	waitActive(t, c, lb["id"].(string))
}

// TestSingleCreatesOfListenerAndPool: a listener POST with default_pool and
// a pool POST with healthmonitor and members create their children with
// them; the configuration push settles all of them.
func TestSingleCreatesOfListenerAndPool(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{})
	ctx := context.Background()
	gc := newGopherClient(t, srv.URL, projectA)
	c := newRawClient(srv.URL, projectA)
	lb, err := loadbalancers.Create(ctx, gc, loadbalancers.CreateOpts{Name: "children", VipSubnetID: defaultSubnet}).Extract()
	noErr(t, "create lb", err)
	waitActive(t, c, lb.ID)

	ln, err := listeners.Create(ctx, gc, listeners.CreateOpts{LoadbalancerID: lb.ID, Protocol: listeners.ProtocolHTTP, ProtocolPort: 80,
		DefaultPool: &pools.CreateOpts{Name: "dp", Protocol: pools.ProtocolHTTP, LBMethod: pools.LBMethodLeastConnections,
			Members: []pools.CreateMemberOpts{{Address: "127.0.0.41", ProtocolPort: 80}}}}).Extract()
	noErr(t, "create listener with default_pool", err)
	if ln.DefaultPoolID == "" || ln.ProvisioningStatus != "PENDING_CREATE" {
		t.Fatalf("listener 201: default pool %q, %s", ln.DefaultPoolID, ln.ProvisioningStatus)
	}
	waitActive(t, c, lb.ID)
	dp, err := pools.Get(ctx, gc, ln.DefaultPoolID).Extract()
	noErr(t, "get default pool", err)
	if dp.Name != "dp" || dp.ProvisioningStatus != "ACTIVE" || len(dp.Members) != 1 || len(dp.Listeners) != 1 || dp.Listeners[0].ID != ln.ID {
		t.Errorf("default pool %+v", dp)
	}

	pool, err := pools.Create(ctx, gc, pools.CreateOpts{LoadbalancerID: lb.ID, Name: "p", Protocol: pools.ProtocolTCP, LBMethod: pools.LBMethodRoundRobin,
		Monitor: monitors.CreateOpts{Type: monitors.TypeTCP, Delay: 1, Timeout: 1, MaxRetries: 1},
		Members: []pools.CreateMemberOpts{{Address: "127.0.0.51", ProtocolPort: 22}, {Address: "127.0.0.52", ProtocolPort: 22}}}).Extract()
	noErr(t, "create pool with monitor and members", err)
	if pool.MonitorID == "" || len(pool.Members) != 2 || pool.ProvisioningStatus != "PENDING_CREATE" {
		t.Fatalf("pool 201: monitor %q, %d members, %s", pool.MonitorID, len(pool.Members), pool.ProvisioningStatus)
	}
	waitActive(t, c, lb.ID)
	hm, err := monitors.Get(ctx, gc, pool.MonitorID).Extract()
	noErr(t, "get monitor", err)
	if hm.ProvisioningStatus != "ACTIVE" || hm.OperatingStatus != "ONLINE" {
		t.Errorf("monitor %s/%s, want ACTIVE/ONLINE", hm.ProvisioningStatus, hm.OperatingStatus)
	}
	for _, m := range pool.Members {
		obj := objectAt(t, c.get(t, "/v2/lbaas/pools/"+pool.ID+"/members/"+m.ID), "member")
		wantFields(t, "member", obj, map[string]any{"provisioning_status": "ACTIVE", "operating_status": "OFFLINE"})
	}

	// A refused graph changes nothing: the listener's pool is not created.
	r := c.do(t, request{Method: http.MethodPost, Path: "/v2/lbaas/listeners", Body: `{"listener": {"loadbalancer_id": "` + lb.ID + `",
		"protocol": "TCP", "protocol_port": 80, "default_pool": {"name": "orphan", "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"}}}`})
	wantFault(t, "listener on a taken port", r, http.StatusConflict, "protocol_port 80")
	if all := listAt(t, c.get(t, "/v2/lbaas/pools?name=orphan"), "pools"); len(all) != 0 {
		t.Errorf("a refused listener left its pool: %v", all)
	}
}

// TestVIPAllocatedByTheAPI: the POST allocates the VIP, a requested address
// already held or outside the subnet is refused at once, and refused creates
// free what they allocated.
func TestVIPAllocatedByTheAPI(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{})
	c := newRawClient(srv.URL, projectA)
	create := func(fields string) response {
		return c.do(t, request{Method: http.MethodPost, Path: "/v2/lbaas/loadbalancers",
			Body: `{"loadbalancer": {"vip_subnet_id": "` + defaultSubnet + `"` + fields + `}}`})
	}
	const held, free = "127.100.0.50", "127.100.0.60"

	r := create(`, "vip_address": "` + held + `"`)
	mustStatus(t, "create with an address", r, http.StatusCreated)
	first := objectAt(t, r, "loadbalancer")
	wantFields(t, "201", first, map[string]any{"vip_address": held, "vip_network_id": defaultNetwork, "vip_subnet_id": defaultSubnet})
	if s, _ := first["vip_port_id"].(string); s == "" {
		t.Errorf("201 without vip_port_id: %s", r)
	}

	wantFault(t, "address held", create(`, "vip_address": "`+held+`"`), http.StatusConflict,
		"IP address "+held+" already allocated in subnet "+defaultSubnet+".")
	wantFault(t, "address outside the subnet", create(`, "vip_address": "10.1.2.3"`), http.StatusBadRequest,
		"IP address 10.1.2.3 is not a valid IP for the specified subnet.")

	// A graph refused by the aggregate frees its VIP: the address is free
	// for the next create.
	wantFault(t, "refused graph", create(`, "vip_address": "`+free+`", "listeners": [
		{"protocol": "HTTP", "protocol_port": 80}, {"protocol": "TCP", "protocol_port": 80}]`), http.StatusConflict, "protocol_port 80")
	wantFault(t, "graph refused before the aggregate", create(`, "vip_address": "`+free+`", "listeners": [
		{"protocol": "HTTP", "protocol_port": 80, "default_pool": {"name": "ghost"}}]`), http.StatusBadRequest, "ghost")
	r = create(`, "vip_address": "` + free + `"`)
	mustStatus(t, "create on the address refused creates had", r, http.StatusCreated)
	if n := len(listAt(t, c.get(t, "/v2/lbaas/loadbalancers"), "loadbalancers")); n != 2 {
		t.Errorf("%d load balancers, want 2 (refused creates stored nothing)", n)
	}

	// The saga does not allocate again: the VIP of the 201 is the VIP.
	wantFields(t, "active lb", waitActive(t, c, first["id"].(string)), map[string]any{"vip_address": held, "vip_port_id": first["vip_port_id"]})

	// A restart re-reserves held VIPs before the API allocates again.
	_ = srv.stop(syscall.SIGTERM)
	srv.restart(serverOptions{})
	wantFault(t, "address held across a restart", create(`, "vip_address": "`+held+`"`), http.StatusConflict, "already allocated")

	// Deleting the load balancer frees its address.
	path := "/v2/lbaas/loadbalancers/" + first["id"].(string)
	mustStatus(t, "delete", c.do(t, request{Method: http.MethodDelete, Path: path}), http.StatusNoContent)
	waitGone(t, c, path)
	mustStatus(t, "create on a freed address", create(`, "vip_address": "`+held+`"`), http.StatusCreated)
}

// objects turns decoded JSON objects into maps.
func objects(list []any) []map[string]any {
	out := make([]map[string]any, 0, len(list))
	for _, v := range list {
		if m, ok := v.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// idRefs turns ids into [{"id": ...}] for wantIDRefs.
func idRefs(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = map[string]any{"id": id}
	}
	return out
}
