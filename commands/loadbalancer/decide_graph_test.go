package loadbalancer

import (
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/events"
)

// Fixtures of the single-call creates: what the HTTP layer hands over (no
// project or load balancer ids on the children) and what Decide records.

var graphVip = events.VipAllocated{VipAddress: "10.0.0.10", VipPortID: "port-1", VipSubnetID: "subnet-1", VipNetworkID: "net-1"}

func bareChild[T any](spec T, clear func(*T)) T {
	clear(&spec)
	return spec
}

func barePool(id, proto string) events.Pool {
	return bareChild(poolSpec(id, proto), func(p *events.Pool) { p.ProjectID, p.LoadBalancerID = "", "" })
}

func bareMember(id, addr string, port int) events.Member {
	return bareChild(memberSpec(id, "", addr, port), func(m *events.Member) { m.ProjectID = "" })
}

func bareHM(id, typ string) events.HealthMonitor {
	return bareChild(hmSpec(id, "", typ), func(h *events.HealthMonitor) { h.ProjectID = "" })
}

func bareListener(id, proto string, port int, defaultPool string) events.Listener {
	return bareChild(listenerSpec(id, proto, port), func(l *events.Listener) {
		l.ProjectID, l.LoadBalancerID = "", ""
		if defaultPool != "" {
			l.DefaultPoolID = ptr(defaultPool)
		}
	})
}

func withDefaultPool(l events.Listener, poolID string) events.Listener {
	l.DefaultPoolID = ptr(poolID)
	return l
}

// fullGraph: an HTTP pool with an HTTP monitor and two members, a TCP pool
// alone, an HTTP listener on the first and a TCP listener on the second.
func fullGraph() CreateLoadBalancer {
	return CreateLoadBalancer{
		Spec: lbSpec(),
		Vip:  &graphVip,
		Pools: []PoolGraph{
			{Spec: barePool("p-1", "HTTP"), HealthMonitor: ptr(bareHM("h-1", "HTTP")),
				Members: []events.Member{bareMember("m-1", "10.0.1.1", 80), bareMember("m-2", "10.0.1.2", 80)}},
			{Spec: barePool("p-2", "TCP")},
		},
		Listeners: []events.Listener{bareListener("l-1", "HTTP", 80, "p-1"), bareListener("l-2", "TCP", 443, "p-2")},
	}
}

func fullGraphEvents() []events.Event {
	vip := graphVip
	vip.LoadBalancerID = lbID
	return []events.Event{
		events.LoadBalancerCreateRequested{LoadBalancer: lbSpec()},
		vip,
		events.PoolCreateRequested{Pool: poolSpec("p-1", "HTTP")},
		events.HealthMonitorCreateRequested{LoadBalancerID: lbID, HealthMonitor: hmSpec("h-1", "p-1", "HTTP")},
		events.MemberCreateRequested{LoadBalancerID: lbID, Member: memberSpec("m-1", "p-1", "10.0.1.1", 80)},
		events.MemberCreateRequested{LoadBalancerID: lbID, Member: memberSpec("m-2", "p-1", "10.0.1.2", 80)},
		events.PoolCreateRequested{Pool: poolSpec("p-2", "TCP")},
		events.ListenerCreateRequested{Listener: withDefaultPool(listenerSpec("l-1", "HTTP", 80), "p-1")},
		events.ListenerCreateRequested{Listener: withDefaultPool(listenerSpec("l-2", "TCP", 443), "p-2")},
	}
}

// change returns fullGraph modified by edit.
func change(edit func(*CreateLoadBalancer)) CreateLoadBalancer {
	c := fullGraph()
	edit(&c)
	return c
}

func TestDecideLoadBalancerGraph(t *testing.T) {
	vip := graphVip
	vip.LoadBalancerID = lbID
	runDecide(t, []decideCase{
		{name: "VIP allocated by the API is recorded with the create",
			when: CreateLoadBalancer{Spec: lbSpec(), Vip: &events.VipAllocated{LoadBalancerID: "ignored", VipAddress: "10.0.0.10",
				VipPortID: "port-1", VipSubnetID: "subnet-1", VipNetworkID: "net-1"}},
			then: []events.Event{events.LoadBalancerCreateRequested{LoadBalancer: lbSpec()}, vip}},
		{name: "whole graph in Octavia's order, ids and project filled", when: fullGraph(), then: fullGraphEvents()},
		{name: "graph without a VIP (the saga allocates it)", when: change(func(c *CreateLoadBalancer) { c.Vip = nil }),
			then: append(fullGraphEvents()[:1:1], fullGraphEvents()[2:]...)},
		{name: "graph on an existing stream", given: activeLB(), when: fullGraph(),
			wantErr: &Error{Conflict, "Already an entity with that specified id."}},
		{name: "listener default pool not in the graph",
			when:    change(func(c *CreateLoadBalancer) { c.Listeners[0].DefaultPoolID = ptr("p-x") }),
			wantErr: &Error{NotFound, "Pool p-x not found."}},
		{name: "default pool of another protocol",
			when: change(func(c *CreateLoadBalancer) {
				c.Listeners[1].DefaultPoolID = ptr("p-1")
				c.Listeners[1].Protocol = "UDP"
			}),
			wantErr: &Error{Invalid, "Validation failure: The pool protocol 'HTTP' is invalid while the listener protocol is 'UDP'."}},
		{name: "two listeners on one port",
			when:    change(func(c *CreateLoadBalancer) { c.Listeners[1].ProtocolPort = 80 }),
			wantErr: &Error{Conflict, "Another Listener on this Load Balancer is already using protocol HTTP and protocol_port 80"}},
		{name: "two members on one address and port",
			when:    change(func(c *CreateLoadBalancer) { c.Pools[0].Members[1].Address = "10.0.1.1" }),
			wantErr: &Error{Conflict, "Another member on this pool is already using ip 10.0.1.1 on protocol_port 80"}},
		{name: "the same member address in two pools is fine",
			when: change(func(c *CreateLoadBalancer) {
				c.Pools[1].Members = []events.Member{bareMember("m-3", "10.0.1.1", 80)}
			}),
			then: func() []events.Event {
				evs := fullGraphEvents()
				m := events.MemberCreateRequested{LoadBalancerID: lbID, Member: memberSpec("m-3", "p-2", "10.0.1.1", 80)}
				return append(evs[:7:7], m, evs[7], evs[8])
			}()},
		{name: "monitor type of another pool protocol",
			when:    change(func(c *CreateLoadBalancer) { c.Pools[0].HealthMonitor.Type = "UDP-CONNECT" }),
			wantErr: &Error{Invalid, "Validation failure: The UDP-CONNECT type is only supported for pools of type UDP/SCTP."}},
		{name: "an id used twice",
			when:    change(func(c *CreateLoadBalancer) { c.Listeners[1].ID = "m-2" }),
			wantErr: &Error{Conflict, "Already an entity with that specified id."}},
		{name: "PROMETHEUS listener with a default pool",
			when:    change(func(c *CreateLoadBalancer) { c.Listeners[1].Protocol = "PROMETHEUS" }),
			wantErr: &Error{Invalid, "Protocol PROMETHEUS listeners cannot have child objects."}},
		{name: "allowed CIDR of the other IP version than the allocated VIP",
			when: change(func(c *CreateLoadBalancer) {
				c.Listeners[0].AllowedCIDRs = []string{"2001:db8::/32"}
			}),
			wantErr: &Error{Invalid, "Validation failure: CIDR 2001:db8::/32 IP version incompatible with VIP 10.0.0.10 IP version."}},
		{name: "pool naming a listener of the graph",
			when:    change(func(c *CreateLoadBalancer) { c.Pools[1].Spec.ListenerID = "l-2" }),
			wantErr: &Error{NotFound, "Listener l-2 not found."}},
	})
}

func TestDecideListenerGraph(t *testing.T) {
	pool := PoolGraph{Spec: barePool("p-9", "HTTP"), HealthMonitor: ptr(bareHM("h-9", "TCP")),
		Members: []events.Member{bareMember("m-9", "10.0.9.1", 8080)}}
	listener := bareListener("l-9", "HTTP", 8080, "")
	runDecide(t, []decideCase{
		{name: "pool, monitor, member, then the listener using it", given: graph(),
			when: CreateListener{Spec: listener, DefaultPool: &pool},
			then: []events.Event{
				events.PoolCreateRequested{Pool: poolSpec("p-9", "HTTP")},
				events.HealthMonitorCreateRequested{LoadBalancerID: lbID, HealthMonitor: hmSpec("h-9", "p-9", "TCP")},
				events.MemberCreateRequested{LoadBalancerID: lbID, Member: memberSpec("m-9", "p-9", "10.0.9.1", 8080)},
				events.ListenerCreateRequested{Listener: withDefaultPool(listenerSpec("l-9", "HTTP", 8080), "p-9")},
			}},
		{name: "the default pool replaces default_pool_id", given: graph(),
			when: CreateListener{Spec: bareListener("l-9", "HTTP", 8080, "p-1"), DefaultPool: &PoolGraph{Spec: barePool("p-9", "HTTP")}},
			then: []events.Event{
				events.PoolCreateRequested{Pool: poolSpec("p-9", "HTTP")},
				events.ListenerCreateRequested{Listener: withDefaultPool(listenerSpec("l-9", "HTTP", 8080), "p-9")},
			}},
		{name: "unknown load balancer", when: CreateListener{Spec: listener, DefaultPool: &pool},
			wantErr: &Error{NotFound, "Load Balancer lb-1 not found."}},
		{name: "locked load balancer", given: lockedLB(), when: CreateListener{Spec: listener, DefaultPool: &pool},
			wantErr: &Error{Immutable, "Load Balancer lb-1 is immutable and cannot be updated."}},
		{name: "port taken", given: graph(), when: CreateListener{Spec: bareListener("l-9", "TCP", 80, ""), DefaultPool: &pool},
			wantErr: &Error{Conflict, "Another Listener on this Load Balancer is already using protocol HTTP and protocol_port 80"}},
		{name: "pool of another protocol", given: graph(),
			when:    CreateListener{Spec: bareListener("l-9", "UDP", 53, ""), DefaultPool: &pool},
			wantErr: &Error{Invalid, "Validation failure: The pool protocol 'HTTP' is invalid while the listener protocol is 'UDP'."}},
	})
}

func TestDecidePoolGraph(t *testing.T) {
	members := []events.Member{bareMember("m-9", "10.0.9.1", 80), bareMember("m-8", "10.0.9.2", 80)}
	onListener := barePool("p-9", "HTTP")
	onListener.ListenerID = "l-2"
	wantOnListener := poolSpec("p-9", "HTTP")
	wantOnListener.ListenerID = "l-2"
	runDecide(t, []decideCase{
		{name: "pool, monitor, members", given: graph(),
			when: CreatePool{Spec: barePool("p-9", "TCP"), HealthMonitor: ptr(bareHM("h-9", "TCP")), Members: members},
			then: []events.Event{
				events.PoolCreateRequested{Pool: poolSpec("p-9", "TCP")},
				events.HealthMonitorCreateRequested{LoadBalancerID: lbID, HealthMonitor: hmSpec("h-9", "p-9", "TCP")},
				events.MemberCreateRequested{LoadBalancerID: lbID, Member: memberSpec("m-9", "p-9", "10.0.9.1", 80)},
				events.MemberCreateRequested{LoadBalancerID: lbID, Member: memberSpec("m-8", "p-9", "10.0.9.2", 80)},
			}},
		{name: "members only, on a listener", given: seq(graph(), withListener(listenerSpec("l-2", "TCP", 22))),
			when: CreatePool{Spec: onListener, Members: members[:1]},
			then: []events.Event{
				events.PoolCreateRequested{Pool: wantOnListener},
				events.MemberCreateRequested{LoadBalancerID: lbID, Member: memberSpec("m-9", "p-9", "10.0.9.1", 80)},
			}},
		{name: "listener with a default pool already", given: graph(),
			when:    CreatePool{Spec: func() events.Pool { p := barePool("p-9", "HTTP"); p.ListenerID = "l-1"; return p }(), Members: members},
			wantErr: &Error{Conflict, "This listener already has a default pool"}},
		{name: "locked load balancer", given: lockedLB(), when: CreatePool{Spec: barePool("p-9", "TCP"), Members: members},
			wantErr: &Error{Immutable, "Load Balancer lb-1 is immutable and cannot be updated."}},
		{name: "duplicate members", given: graph(),
			when:    CreatePool{Spec: barePool("p-9", "TCP"), Members: []events.Member{members[0], bareMember("m-7", "10.0.9.1", 80)}},
			wantErr: &Error{Conflict, "Another member on this pool is already using ip 10.0.9.1 on protocol_port 80"}},
		{name: "UDP-CONNECT monitor too fast", given: graph(),
			when: CreatePool{Spec: barePool("p-9", "UDP"), HealthMonitor: func() *events.HealthMonitor {
				h := bareHM("h-9", "UDP-CONNECT")
				h.Delay = 1
				return &h
			}()},
			wantErr: &Error{Invalid, "Validation failure: The request delay value 1 should be larger than 3 for UDP-CONNECT health monitor type."}},
	})
}

// TestGraphSettles: every object of a single-call create starts in
// PENDING_CREATE and is settled by the operation's one outcome.
func TestGraphSettles(t *testing.T) {
	created := given(fullGraphEvents()...)
	if created.LoadBalancer.UpdatedAt != nil {
		t.Errorf("load balancer updated_at %v after its own create, want null", created.LoadBalancer.UpdatedAt)
	}
	if !created.VipAllocated || created.Operation != "create" {
		t.Errorf("VipAllocated %v operation %q, want true, create", created.VipAllocated, created.Operation)
	}
	eachNode(created, func(kind, id string, prov, op string, updated *time.Time) {
		if prov != PendingCreate || updated != nil {
			t.Errorf("%s %s: %s updated_at %v after the create, want PENDING_CREATE and null", kind, id, prov, updated)
		}
	})
	for id, want := range map[string]string{"m-1": Offline, "m-2": Offline} {
		if got := created.Members[id].OperatingStatus; got != want {
			t.Errorf("member %s of a monitored pool: %s, want %s", id, got, want)
		}
	}

	active := Evolve(created.Clone(), created.Version+1, at(20), events.LoadBalancerActivated{LoadBalancerID: lbID})
	eachNode(active, func(kind, id string, prov, op string, _ *time.Time) {
		if prov != Active {
			t.Errorf("%s %s: %s after activation, want ACTIVE", kind, id, prov)
		}
	})
	if hm := active.HealthMonitors["h-1"]; hm.OperatingStatus != Online {
		t.Errorf("monitor operating status %s, want ONLINE", hm.OperatingStatus)
	}
	if active.PendingWork() {
		t.Errorf("operation %q still pending after activation", active.Operation)
	}

	failed := Evolve(created.Clone(), created.Version+1, at(20), events.LoadBalancerProvisioningFailed{LoadBalancerID: lbID, Operation: "create"})
	eachNode(failed, func(kind, id string, prov, op string, _ *time.Time) {
		if prov != ErrorStatus {
			t.Errorf("%s %s: %s after a failed create, want ERROR", kind, id, prov)
		}
	})

	// A listener graph on an ACTIVE load balancer settles with the
	// configuration push; a failed push puts every new object in ERROR.
	child, err := Decide(given(graph()...), CreateListener{Spec: bareListener("l-9", "HTTP", 8080, ""),
		DefaultPool: &PoolGraph{Spec: barePool("p-9", "HTTP"), Members: []events.Member{bareMember("m-9", "10.0.9.1", 80)}}})
	if err != nil {
		t.Fatal(err)
	}
	pending := given(seq(graph(), child)...)
	if pending.LoadBalancer.ProvisioningStatus != PendingUpdate {
		t.Errorf("load balancer %s during the listener graph, want PENDING_UPDATE", pending.LoadBalancer.ProvisioningStatus)
	}
	for _, id := range []string{"l-9", "p-9", "m-9"} {
		if !pending.PendingTargets[id] {
			t.Errorf("%s is not a target of the pending change", id)
		}
	}
	applied := given(seq(graph(), child, []events.Event{applied()})...)
	broken := given(seq(graph(), child, []events.Event{events.ConfigurationFailed{LoadBalancerID: lbID, Reason: "x"}})...)
	for id, n := range map[string][2]string{
		"l-9": {applied.Listeners["l-9"].ProvisioningStatus, broken.Listeners["l-9"].ProvisioningStatus},
		"p-9": {applied.Pools["p-9"].ProvisioningStatus, broken.Pools["p-9"].ProvisioningStatus},
		"m-9": {applied.Members["m-9"].ProvisioningStatus, broken.Members["m-9"].ProvisioningStatus},
	} {
		if n != [2]string{Active, ErrorStatus} {
			t.Errorf("%s after applied/failed: %v, want [ACTIVE ERROR]", id, n)
		}
	}
	if st := broken.LoadBalancer.ProvisioningStatus; st != Active {
		t.Errorf("load balancer %s after the failed push, want ACTIVE", st)
	}
}

// eachNode calls fn for every object of the graph, the load balancer first.
func eachNode(s State, fn func(kind, id, prov, op string, updated *time.Time)) {
	fn("load balancer", s.LoadBalancerID(), s.LoadBalancer.ProvisioningStatus, s.LoadBalancer.OperatingStatus, s.LoadBalancer.UpdatedAt)
	for id, n := range s.Listeners {
		fn("listener", id, n.ProvisioningStatus, n.OperatingStatus, n.UpdatedAt)
	}
	for id, n := range s.Pools {
		fn("pool", id, n.ProvisioningStatus, n.OperatingStatus, n.UpdatedAt)
	}
	for id, n := range s.Members {
		fn("member", id, n.ProvisioningStatus, n.OperatingStatus, n.UpdatedAt)
	}
	for id, n := range s.HealthMonitors {
		fn("health monitor", id, n.ProvisioningStatus, n.OperatingStatus, n.UpdatedAt)
	}
}
