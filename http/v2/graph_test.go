package v2_test

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/network"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
)

// graphBody is a fully populated load balancer POST: an HTTP listener whose
// default pool is defined inline (monitor, two members) and a TCP listener
// naming a pool of "pools".
const graphBody = `{"loadbalancer": {"name": "web", "vip_subnet_id": "` + subnetID + `",
	"listeners": [
		{"name": "http", "protocol": "HTTP", "protocol_port": 80,
		 "default_pool": {"name": "web-pool", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
			"healthmonitor": {"type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 3, "http_version": 1.0},
			"members": [{"address": "10.0.0.21", "protocol_port": 8080}, {"address": "10.0.0.22", "protocol_port": 8080, "weight": 5}]}},
		{"name": "tcp", "protocol": "TCP", "protocol_port": 22, "default_pool": {"name": "ssh", "admin_state_up": true}}],
	"pools": [{"name": "ssh", "protocol": "TCP", "lb_algorithm": "SOURCE_IP"}]}}`

func TestCreateLoadBalancerGraph(t *testing.T) {
	e := newEnv(t)
	resp := e.do(http.MethodPost, "/v2/lbaas/loadbalancers", graphBody).expectStatus(http.StatusCreated)

	// Ids in Octavia's creation order: the load balancer, the pools of the
	// request, the inline default pool with its monitor and members, then
	// the listeners.
	const ssh, web, hm, m1, m2, httpL, tcpL = "id-2", "id-3", "id-4", "id-5", "id-6", "id-7", "id-8"
	call := e.cmds.LastCall()
	cmd, ok := call.Command.(loadbalancer.CreateLoadBalancer)
	if !ok || call.LoadBalancerID != newID || e.cmds.CallCount() != 1 {
		t.Fatalf("%d commands, last %#v on %q", e.cmds.CallCount(), call.Command, call.LoadBalancerID)
	}
	if len(cmd.Pools) != 2 || cmd.Pools[0].Spec.ID != ssh || cmd.Pools[1].Spec.ID != web {
		t.Fatalf("pools %+v, want ssh then web-pool", cmd.Pools)
	}
	if p := cmd.Pools[1]; p.HealthMonitor == nil || p.HealthMonitor.ID != hm || p.HealthMonitor.PoolID != web ||
		*p.HealthMonitor.URLPath != "/" || len(p.Members) != 2 || p.Members[1].Weight != 5 || p.Members[0].PoolID != web {
		t.Errorf("web pool %+v", p)
	}
	if p := cmd.Pools[0].Spec; p.LBAlgorithm != "SOURCE_IP" || p.ProjectID != "tenant-a" || p.LoadBalancerID != newID {
		t.Errorf("ssh pool %+v", p)
	}
	if len(cmd.Listeners) != 2 || *cmd.Listeners[0].DefaultPoolID != web || *cmd.Listeners[1].DefaultPoolID != ssh ||
		cmd.Listeners[0].ID != httpL || cmd.Listeners[1].LoadBalancerID != newID {
		t.Errorf("listeners %+v", cmd.Listeners)
	}

	lb := resp.obj("loadbalancer")
	for k, want := range map[string]any{"id": newID, "provisioning_status": "PENDING_CREATE", "updated_at": nil,
		"vip_address": "10.0.0.100", "vip_port_id": "port-" + newID} {
		if !reflect.DeepEqual(lb[k], want) {
			t.Errorf("load balancer %s = %v, want %v", k, lb[k], want)
		}
	}
	listeners, _ := lb["listeners"].([]any)
	pools, _ := lb["pools"].([]any)
	if len(listeners) != 2 || len(pools) != 2 {
		t.Fatalf("%d listeners, %d pools in %s", len(listeners), len(pools), resp.Body.String())
	}
	for _, l := range listeners {
		l := l.(map[string]any)
		if _, has := l["loadbalancers"]; has || l["provisioning_status"] != "PENDING_CREATE" || !reflect.DeepEqual(l["l7policies"], []any{}) {
			t.Errorf("listener of a full response: %v", l)
		}
	}
	if l := listeners[0].(map[string]any); l["id"] != httpL || l["default_pool_id"] != web {
		t.Errorf("first listener %v", l)
	}
	webPool := pools[1].(map[string]any)
	for _, k := range []string{"loadbalancers", "healthmonitor_id"} {
		if _, has := webPool[k]; has {
			t.Errorf("pool of a full response has %q: %v", k, webPool)
		}
	}
	if webPool["id"] != web || !reflect.DeepEqual(webPool["listeners"], []any{map[string]any{"id": httpL}}) {
		t.Errorf("web pool %v", webPool)
	}
	monitor, _ := webPool["healthmonitor"].(map[string]any)
	if _, has := monitor["pools"]; has || monitor["id"] != hm || monitor["provisioning_status"] != "PENDING_CREATE" ||
		monitor["expected_codes"] != "200" {
		t.Errorf("monitor of a full pool %v", monitor)
	}
	if !strings.Contains(resp.Body.String(), `"http_version":1.0`) {
		t.Errorf("http_version not written as Python does: %s", resp.Body.String())
	}
	members, _ := webPool["members"].([]any)
	var ids []string
	for _, m := range members {
		m := m.(map[string]any)
		ids = append(ids, fmt.Sprint(m["id"]))
		// Created after the monitor: OFFLINE, as Octavia's db_prepare.
		if m["operating_status"] != "OFFLINE" || m["provisioning_status"] != "PENDING_CREATE" || m["protocol_port"] != float64(8080) {
			t.Errorf("member %v", m)
		}
	}
	sort.Strings(ids)
	if !reflect.DeepEqual(ids, []string{m1, m2}) {
		t.Errorf("members %v, want %s %s", ids, m1, m2)
	}
	if ssh := pools[0].(map[string]any); ssh["healthmonitor"] != nil || !reflect.DeepEqual(ssh["members"], []any{}) {
		t.Errorf("ssh pool %v", ssh)
	}
	if allocated, released := e.vips.Counts(); allocated != 1 || released != 0 {
		t.Errorf("VIPs allocated %d, released %d; want 1, 0", allocated, released)
	}
}

func TestCreateLoadBalancerGraphRefused(t *testing.T) {
	lbWith := func(fields string) string {
		return `{"loadbalancer": {"vip_subnet_id": "` + subnetID + `", ` + fields + `}}`
	}
	pool := func(name string) string {
		return `{"name": "` + name + `", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}`
	}
	tests := []struct {
		name     string
		body     string
		status   int
		want     string
		commands int  // Execute calls (the aggregate's refusals)
		vip      bool // the VIP was allocated, then released
	}{
		// wsme decodes nested objects with their own types and names the
		// nested attribute.
		{"listener protocol", lbWith(`"listeners": [{"protocol": "FOO", "protocol_port": 80}]`), 400,
			"Invalid input for field/attribute protocol. Value: 'FOO'. Value should be one of: TCP, HTTPS, HTTP, TERMINATED_HTTPS, UDP, SCTP, PROMETHEUS", 0, false},
		{"listener port missing", lbWith(`"listeners": [{"protocol": "HTTP"}]`), 400,
			"Invalid input for field/attribute protocol_port. Value: 'None'. Mandatory field missing.", 0, false},
		{"member attribute unknown", lbWith(`"pools": [{"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "members": [{"address": "10.0.0.5", "protocol_port": 80, "foo": 1}]}]`), 400,
			"Unknown attribute for argument load_balancer.loadbalancer.pools.members: foo", 0, false},
		{"monitor delay negative", lbWith(`"pools": [{"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "healthmonitor": {"type": "TCP", "delay": -1, "timeout": 3, "max_retries": 3}}]`), 400,
			"Invalid input for field/attribute delay. Value: '-1'. Value should be greater or equal to 0", 0, false},
		{"listener with a loadbalancer_id", lbWith(`"listeners": [{"protocol": "HTTP", "protocol_port": 80, "loadbalancer_id": "` + lbID + `"}]`), 400,
			"Unknown attribute for argument load_balancer.loadbalancer.listeners: loadbalancer_id", 0, false},
		{"l7 policies", lbWith(`"listeners": [{"protocol": "HTTP", "protocol_port": 80, "l7policies": [{"action": "REJECT"}]}]`), 400,
			"Validation failure: L7 policies are not supported yet; create the listener without l7policies.", 0, false},
		// LoadBalancersController._graph_create's rules.
		{"default pool without name", lbWith(`"listeners": [{"protocol": "HTTP", "protocol_port": 80, "default_pool": {"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}}]`), 400,
			"Validation failure: Pools must be named when creating a fully populated loadbalancer.", 0, true},
		{"pool names not unique", lbWith(`"pools": [` + pool("a") + `, ` + pool("a") + `]`), 400,
			"Validation failure: Pool names must be unique when creating a fully populated loadbalancer.", 0, true},
		{"two unnamed pools", lbWith(`"pools": [{"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}, {"protocol": "TCP", "lb_algorithm": "ROUND_ROBIN"}]`), 400,
			"Validation failure: Pool names must be unique when creating a fully populated loadbalancer.", 0, true},
		{"inline default pool clashing with a named one", lbWith(`"pools": [` + pool("a") + `], "listeners": [{"protocol": "HTTP", "protocol_port": 80, "default_pool": ` + pool("a") + `}]`), 400,
			"Validation failure: Pool names must be unique when creating a fully populated loadbalancer.", 0, true},
		{"reference without definition", lbWith(`"listeners": [{"protocol": "HTTP", "protocol_port": 80, "default_pool": {"name": "ghost"}}]`), 400,
			"Validation failure: Pool 'ghost' was referenced but no full definition was found.", 0, true},
		{"more than a name is a definition", lbWith(`"listeners": [{"protocol": "HTTP", "protocol_port": 80, "default_pool": {"name": "p", "description": "d"}}]`), 400,
			"Validation failure: Pool definition for 'p' missing required attribute: protocol", 0, true},
		{"pool without algorithm", lbWith(`"pools": [{"name": "p", "protocol": "HTTP"}]`), 400,
			"Validation failure: Pool definition for 'p' missing required attribute: lb_algorithm", 0, true},
		{"TLS on a UDP listener", lbWith(`"listeners": [{"protocol": "UDP", "protocol_port": 53, "default_tls_container_ref": "x"}]`), 400,
			"Validation failure: UDP protocol listener does not support TLS.", 0, true},
		// The aggregate's checks of the whole graph.
		{"two listeners on one port", lbWith(`"listeners": [{"protocol": "HTTP", "protocol_port": 80}, {"protocol": "TCP", "protocol_port": 80}]`), 409,
			"Another Listener on this Load Balancer is already using protocol HTTP and protocol_port 80", 1, true},
		{"default pool of another protocol", lbWith(`"pools": [` + pool("a") + `], "listeners": [{"protocol": "UDP", "protocol_port": 53, "default_pool": {"name": "a"}}]`), 400,
			"Validation failure: The pool protocol 'HTTP' is invalid while the listener protocol is 'UDP'.", 1, true},
		{"duplicate member", lbWith(`"pools": [{"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "members": [{"address": "10.0.0.5", "protocol_port": 80}, {"address": "10.0.0.5", "protocol_port": 80}]}]`), 409,
			"Another member on this pool is already using ip 10.0.0.5 on protocol_port 80", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.do(http.MethodPost, "/v2/lbaas/loadbalancers", tt.body).expectFault(tt.status, tt.want)
			if n := e.cmds.CallCount(); n != tt.commands {
				t.Errorf("%d commands issued, want %d", n, tt.commands)
			}
			allocated, released := e.vips.Counts()
			if want := map[bool]int{true: 1}[tt.vip]; allocated != want || released != want {
				t.Errorf("VIPs allocated %d, released %d; want %d, %d", allocated, released, want, want)
			}
			if _, stored := e.cmds.States[newID]; stored {
				t.Errorf("a refused graph was stored")
			}
		})
	}
}

// TestCreateLoadBalancerVIPErrors: the network driver's refusals answer as
// Neutron's do through Octavia; nothing is recorded.
func TestCreateLoadBalancerVIPErrors(t *testing.T) {
	body := `{"loadbalancer": {"vip_subnet_id": "` + subnetID + `", "vip_address": "10.0.0.5"}}`
	tests := []struct {
		err    error
		status int
		want   string
	}{
		{fmt.Errorf("noop: %w", network.ErrAddressInUse), 409, "IP address 10.0.0.5 already allocated in subnet " + subnetID + "."},
		{fmt.Errorf("noop: %w", network.ErrInvalidAddress), 400, "IP address 10.0.0.5 is not a valid IP for the specified subnet."},
		{fmt.Errorf("noop: %w", network.ErrNoFreeAddress), 409, "No more IP addresses available on network " + networkID + "."},
		{fmt.Errorf("noop: %w", network.ErrSubnetNotFound), 400, "Subnet " + subnetID + " not found."},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			e := newEnv(t)
			e.vips.Err = tt.err
			e.do(http.MethodPost, "/v2/lbaas/loadbalancers", body).expectFault(tt.status, tt.want)
			if n := e.cmds.CallCount(); n != 0 {
				t.Errorf("%d commands issued", n)
			}
			if req := e.vips.Allocated[0]; req.LoadBalancerID != newID || req.Address != "10.0.0.5" || req.SubnetID != subnetID || req.NetworkID != networkID {
				t.Errorf("allocation request %+v", req)
			}
		})
	}
	t.Run("driver failure", func(t *testing.T) {
		e := newEnv(t)
		e.vips.Err = errors.New("neutron is down")
		resp := e.do(http.MethodPost, "/v2/lbaas/loadbalancers", body).expectStatus(http.StatusInternalServerError)
		if strings.Contains(resp.Body.String(), "neutron") {
			t.Errorf("internal error leaked: %s", resp.Body.String())
		}
	})
}

// TestCreateLoadBalancerReleasesVIP: a create that was not stored frees its
// VIP; one stored despite the error keeps it (its saga or delete frees it).
func TestCreateLoadBalancerReleasesVIP(t *testing.T) {
	body := `{"loadbalancer": {"vip_subnet_id": "` + subnetID + `"}}`
	tests := []struct {
		name     string
		err      error
		stored   bool
		status   int
		released int
	}{
		{"refused", &loadbalancer.Error{Kind: loadbalancer.Conflict, Message: "Already an entity with that specified id."}, false, 409, 1},
		{"failed before the append", errors.New("disk full"), false, 500, 1},
		{"failed after the append", errors.New("fold failed"), true, 500, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.stored {
				s := loadbalancer.NewStateFor(newID)
				s.Exists = true
				s.LoadBalancer.Spec = events.LoadBalancer{ID: newID}
				e.cmds.Put(s)
			}
			e.cmds.Err = tt.err
			e.do(http.MethodPost, "/v2/lbaas/loadbalancers", body).expectStatus(tt.status)
			if _, released := e.vips.Counts(); released != tt.released {
				t.Errorf("released %d VIPs, want %d", released, tt.released)
			}
		})
	}
}

func TestCreateListenerWithDefaultPool(t *testing.T) {
	e := newEnv(t)
	e.activeGraph()
	l := e.do(http.MethodPost, "/v2/lbaas/listeners", listenerBody(`, "protocol": "HTTP", "default_pool_id": "`+poolID+`",
		"default_pool": {"protocol": "HTTP", "lb_algorithm": "LEAST_CONNECTIONS",
			"healthmonitor": {"type": "TCP", "delay": 5, "timeout": 3, "max_retries": 2},
			"members": [{"address": "10.0.0.30", "protocol_port": 80, "backup": true}]}`)).
		expectStatus(http.StatusCreated).obj("listener")
	const pool, hm, member = "id-2", "id-3", "id-4" // the listener took the first id
	cmd := e.cmds.LastCall().Command.(loadbalancer.CreateListener)
	if cmd.DefaultPool == nil || cmd.DefaultPool.Spec.ID != pool || cmd.DefaultPool.Spec.LBAlgorithm != "LEAST_CONNECTIONS" ||
		cmd.DefaultPool.HealthMonitor.ID != hm || cmd.DefaultPool.HealthMonitor.MaxRetries != 2 ||
		len(cmd.DefaultPool.Members) != 1 || !cmd.DefaultPool.Members[0].Backup || *cmd.Spec.DefaultPoolID != pool {
		t.Fatalf("command %+v", cmd)
	}
	// A listener POST answers ListenerResponse, whatever it created.
	if l["id"] != newID || l["default_pool_id"] != pool || !reflect.DeepEqual(l["loadbalancers"], []any{map[string]any{"id": lbID}}) {
		t.Errorf("listener %v", l)
	}
	s := e.state()
	if s.Pools[pool].ProvisioningStatus != loadbalancer.PendingCreate || s.Members[member].OperatingStatus != loadbalancer.Offline ||
		s.HealthMonitors[hm].ProvisioningStatus != loadbalancer.PendingCreate || s.LoadBalancer.ProvisioningStatus != loadbalancer.PendingUpdate {
		t.Errorf("state after the listener graph: pool %s, member %s, monitor %s, lb %s", s.Pools[pool].ProvisioningStatus,
			s.Members[member].OperatingStatus, s.HealthMonitors[hm].ProvisioningStatus, s.LoadBalancer.ProvisioningStatus)
	}
}

func TestCreatePoolWithChildren(t *testing.T) {
	e := newEnv(t)
	e.activeGraph()
	p := e.do(http.MethodPost, "/v2/lbaas/pools", `{"pool": {"loadbalancer_id": "`+lbID+`", "protocol": "TCP", "lb_algorithm": "ROUND_ROBIN",
		"healthmonitor": {"type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 3, "url_path": "/health", "name": "hm"},
		"members": [{"address": "10.0.0.31", "protocol_port": 80}, {"address": "10.0.0.32", "protocol_port": 80, "subnet_id": "`+subnetID+`"}]}}`).
		expectStatus(http.StatusCreated).obj("pool")
	const hm, m1, m2 = "id-2", "id-3", "id-4"
	cmd := e.cmds.LastCall().Command.(loadbalancer.CreatePool)
	wantHM := events.HealthMonitor{ID: hm, ProjectID: "tenant-a", PoolID: newID, Name: ptr("hm"), AdminStateUp: true, Type: "HTTP",
		Delay: 5, Timeout: 3, MaxRetries: 3, MaxRetriesDown: 3, HTTPMethod: ptr("GET"), URLPath: ptr("/health"), ExpectedCodes: ptr("200")}
	if cmd.HealthMonitor == nil || !reflect.DeepEqual(*cmd.HealthMonitor, wantHM) {
		t.Errorf("monitor %+v, want %+v", cmd.HealthMonitor, wantHM)
	}
	wantM2 := events.Member{ID: m2, ProjectID: "tenant-a", PoolID: newID, AdminStateUp: true, Address: "10.0.0.32", ProtocolPort: 80,
		Weight: 1, SubnetID: ptr(subnetID)}
	if len(cmd.Members) != 2 || cmd.Members[0].ID != m1 || !reflect.DeepEqual(cmd.Members[1], wantM2) {
		t.Errorf("members %+v", cmd.Members)
	}
	// A pool POST answers PoolResponse: children by id.
	if p["id"] != newID || p["healthmonitor_id"] != hm || p["provisioning_status"] != "PENDING_CREATE" ||
		!reflect.DeepEqual(p["members"], []any{map[string]any{"id": m1}, map[string]any{"id": m2}}) {
		t.Errorf("pool %v", p)
	}
}
