package health

import (
	"reflect"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/amphora/heartbeat"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
)

const lbID = "lb"

// graphOpt shapes a state for the derivation cases.
type graphOpt func(*loadbalancer.State)

// fakeGraph is Octavia's _make_fake_lb_health_dict: an ACTIVE, enabled load
// balancer with listener-id-1, pool-id-1 (with a monitor) and member-id-1,
// every operating status "bogus" (members "NOTHING_MATCHABLE"), so every
// derived status shows as a change.
func fakeGraph(opts ...graphOpt) loadbalancer.State {
	s := loadbalancer.NewStateFor(lbID)
	s.Exists = true
	s.LoadBalancer = loadbalancer.Node[events.LoadBalancer]{
		Spec:               events.LoadBalancer{ID: lbID, AdminStateUp: true},
		ProvisioningStatus: loadbalancer.Active, OperatingStatus: "bogus",
	}
	withListener("listener-id-1", true, "bogus")(&s)
	withPool("pool-id-1", "bogus", "member-id-1")(&s)
	s.HealthMonitors["hm-1"] = &loadbalancer.Node[events.HealthMonitor]{
		Spec: events.HealthMonitor{ID: "hm-1", PoolID: "pool-id-1", AdminStateUp: true}, OperatingStatus: loadbalancer.Online,
	}
	for _, o := range opts {
		o(&s)
	}
	return s
}

func withListener(id string, enabled bool, op string) graphOpt {
	return func(s *loadbalancer.State) {
		s.Listeners[id] = &loadbalancer.Node[events.Listener]{
			Spec:               events.Listener{ID: id, LoadBalancerID: lbID, AdminStateUp: enabled, Protocol: "TCP"},
			ProvisioningStatus: loadbalancer.Active, OperatingStatus: op,
		}
	}
}

// withPool adds a pool and members with status NOTHING_MATCHABLE.
func withPool(id, op string, members ...string) graphOpt {
	return func(s *loadbalancer.State) {
		s.Pools[id] = &loadbalancer.Node[events.Pool]{
			Spec:               events.Pool{ID: id, LoadBalancerID: lbID, AdminStateUp: true},
			ProvisioningStatus: loadbalancer.Active, OperatingStatus: op,
		}
		for _, m := range members {
			withMember(id, m, "NOTHING_MATCHABLE")(s)
		}
	}
}

func withMember(pool, id, op string) graphOpt {
	return func(s *loadbalancer.State) {
		s.Members[id] = &loadbalancer.Node[events.Member]{
			Spec:               events.Member{ID: id, PoolID: pool, AdminStateUp: true},
			ProvisioningStatus: loadbalancer.Active, OperatingStatus: op,
		}
	}
}

// noMonitor is health_monitor=False: members NO_MONITOR.
func noMonitor(s *loadbalancer.State) {
	clear(s.HealthMonitors)
	for _, m := range s.Members {
		m.OperatingStatus = loadbalancer.NoMonitor
	}
}

func noListener(s *loadbalancer.State) { clear(s.Listeners) }
func noPool(s *loadbalancer.State)     { clear(s.Pools); clear(s.Members); clear(s.HealthMonitors) }
func lbDisabled(s *loadbalancer.State) { s.LoadBalancer.Spec.AdminStateUp = false }

func lbProvisioning(st string) graphOpt {
	return func(s *loadbalancer.State) { s.LoadBalancer.ProvisioningStatus = st }
}

func poolDisabled(id string) graphOpt {
	return func(s *loadbalancer.State) { s.Pools[id].Spec.AdminStateUp = false }
}

// allOnline is test_update_health_no_status_change's start.
func allOnline(s *loadbalancer.State) {
	s.LoadBalancer.OperatingStatus = loadbalancer.Online
	for _, n := range s.Listeners {
		n.OperatingStatus = loadbalancer.Online
	}
	for _, n := range s.Pools {
		n.OperatingStatus = loadbalancer.Online
	}
	for _, n := range s.Members {
		n.OperatingStatus = loadbalancer.Online
	}
}

// beat builds a version 3 message: listeners id -> status; pools
// "pool:listener" (or "pool") -> status and members.
func beat(listeners map[string]string, pools map[string]heartbeat.Pool) heartbeat.Message {
	m := heartbeat.Message{AmphoraID: "amp", Version: heartbeat.Version,
		Listeners: map[string]heartbeat.Listener{}, Pools: pools}
	for id, st := range listeners {
		m.Listeners[id] = heartbeat.Listener{Status: st}
	}
	return m
}

func pool(status string, members map[string]string) heartbeat.Pool {
	return heartbeat.Pool{Status: status, Members: members}
}

type statuses = map[string]string

// Facts of Octavia's tests/unit/amphorae/drivers/health/test_heartbeat_udp.py
// (TestUpdateHealthDb), messages in the version 2+ shape; then cases of our
// own for what Octavia's tests leave out.
func TestDerive(t *testing.T) {
	cases := []struct {
		name     string
		graph    loadbalancer.State
		msg      heartbeat.Message
		want     events.OperatingStatusesChanged // LoadBalancerID is filled in
		notAlive bool
		warnings int
	}{
		{
			name:  "no_listener",
			graph: fakeGraph(noListener, noPool),
			msg:   beat(nil, nil),
			want:  events.OperatingStatusesChanged{LoadBalancer: "ONLINE"},
		},
		{
			name:  "lb_disabled: count ignored, listener not reported",
			graph: fakeGraph(lbDisabled),
			msg:   beat(nil, nil),
			want: events.OperatingStatusesChanged{LoadBalancer: "OFFLINE",
				Listeners: statuses{"listener-id-1": "ERROR"}, Pools: statuses{"pool-id-1": "OFFLINE"}},
		},
		{
			name:  "lb_pending_no_listener: OFFLINE, count ignored",
			graph: fakeGraph(noPool, lbProvisioning(loadbalancer.PendingUpdate)),
			msg:   beat(nil, nil),
			want:  events.OperatingStatusesChanged{LoadBalancer: "ONLINE", Listeners: statuses{"listener-id-1": "OFFLINE"}},
		},
		{
			name:     "missing_listener: ERROR, heartbeat not counted",
			graph:    fakeGraph(noPool),
			msg:      beat(nil, nil),
			want:     events.OperatingStatusesChanged{LoadBalancer: "ONLINE", Listeners: statuses{"listener-id-1": "ERROR"}},
			notAlive: true,
		},
		{
			name:  "online",
			graph: fakeGraph(),
			msg:   beat(statuses{"listener-id-1": "OPEN"}, map[string]heartbeat.Pool{"pool-id-1:listener-id-1": pool("UP", statuses{"member-id-1": "UP"})}),
			want: events.OperatingStatusesChanged{LoadBalancer: "ONLINE", Listeners: statuses{"listener-id-1": "ONLINE"},
				Pools: statuses{"pool-id-1": "ONLINE"}, Members: statuses{"member-id-1": "ONLINE"}},
		},
		{
			name:  "online, listener count wrong",
			graph: fakeGraph(withListener("listener-id-2", true, "bogus")),
			msg:   beat(statuses{"listener-id-1": "OPEN"}, map[string]heartbeat.Pool{"pool-id-1:listener-id-1": pool("UP", statuses{"member-id-1": "UP"})}),
			want: events.OperatingStatusesChanged{LoadBalancer: "ONLINE",
				Listeners: statuses{"listener-id-1": "ONLINE", "listener-id-2": "ERROR"},
				Pools:     statuses{"pool-id-1": "ONLINE"}, Members: statuses{"member-id-1": "ONLINE"}},
			notAlive: true,
		},
		{
			name:  "listener_disabled: not expected, stays OFFLINE",
			graph: fakeGraph(withListener("listener-id-2", false, "OFFLINE")),
			msg:   beat(statuses{"listener-id-1": "OPEN"}, map[string]heartbeat.Pool{"pool-id-1:listener-id-1": pool("UP", statuses{"member-id-1": "UP"})}),
			want: events.OperatingStatusesChanged{LoadBalancer: "ONLINE", Listeners: statuses{"listener-id-1": "ONLINE"},
				Pools: statuses{"pool-id-1": "ONLINE"}, Members: statuses{"member-id-1": "ONLINE"}},
		},
		{
			name:  "lb_pool_health_offline: unreported pool OFFLINE, members untouched",
			graph: fakeGraph(),
			msg:   beat(statuses{"listener-id-1": "OPEN"}, nil),
			want: events.OperatingStatusesChanged{LoadBalancer: "ONLINE", Listeners: statuses{"listener-id-1": "ONLINE"},
				Pools: statuses{"pool-id-1": "OFFLINE"}},
		},
		{
			name: "lb_multiple_listeners_one_error_pool",
			graph: fakeGraph(withListener("listener-id-2", true, "bogus"), withPool("pool-id-2", "bogus"),
				withMember("pool-id-2", "member-id-2", "bogus")),
			msg: beat(statuses{"listener-id-1": "OPEN", "listener-id-2": "OPEN"}, map[string]heartbeat.Pool{
				"pool-id-1:listener-id-1": pool("DOWN", statuses{"member-id-1": "ERROR"}),
				"pool-id-2:listener-id-2": pool("UP", statuses{"member-id-2": "UP"}),
			}),
			want: events.OperatingStatusesChanged{LoadBalancer: "ERROR",
				Listeners: statuses{"listener-id-1": "ONLINE", "listener-id-2": "ONLINE"},
				Pools:     statuses{"pool-id-1": "ERROR", "pool-id-2": "ONLINE"}, Members: statuses{"member-id-2": "ONLINE"}},
			warnings: 1, // member-id-1 reported ERROR, which HAProxy never says
		},
		{
			name:  "v2_lb_and_list_pool_health_online: a shared pool is processed once",
			graph: fakeGraph(),
			msg: beat(statuses{"listener-id-1": "OPEN"}, map[string]heartbeat.Pool{
				"pool-id-1:listener-id-1": pool("UP", statuses{"member-id-1": "UP"}),
				"pool-id-1:listener-id-2": pool("UP", statuses{"member-id-1": "UP"}),
			}),
			want: events.OperatingStatusesChanged{LoadBalancer: "ONLINE", Listeners: statuses{"listener-id-1": "ONLINE"},
				Pools: statuses{"pool-id-1": "ONLINE"}, Members: statuses{"member-id-1": "ONLINE"}},
		},
		{
			name:  "pool_offline: unknown pool ignored, OFFLINE pool unchanged",
			graph: fakeGraph(withPool("pool-id-2", "OFFLINE")),
			msg:   beat(statuses{"listener-id-1": "OPEN"}, map[string]heartbeat.Pool{"pool-id-5:listener-id-1": pool("UP", statuses{"member-id-1": "UP"})}),
			want: events.OperatingStatusesChanged{LoadBalancer: "ONLINE", Listeners: statuses{"listener-id-1": "ONLINE"},
				Pools: statuses{"pool-id-1": "OFFLINE"}},
		},
		{
			name:  "member_drain",
			graph: fakeGraph(),
			msg:   beat(statuses{"listener-id-1": "OPEN"}, map[string]heartbeat.Pool{"pool-id-1:listener-id-1": pool("UP", statuses{"member-id-1": "DRAIN"})}),
			want: events.OperatingStatusesChanged{LoadBalancer: "ONLINE", Listeners: statuses{"listener-id-1": "ONLINE"},
				Pools: statuses{"pool-id-1": "ONLINE"}, Members: statuses{"member-id-1": "DRAINING"}},
		},
		{
			name:  "member_maint",
			graph: fakeGraph(),
			msg:   beat(statuses{"listener-id-1": "OPEN"}, map[string]heartbeat.Pool{"pool-id-1:listener-id-1": pool("UP", statuses{"member-id-1": "MAINT"})}),
			want: events.OperatingStatusesChanged{LoadBalancer: "ONLINE", Listeners: statuses{"listener-id-1": "ONLINE"},
				Pools: statuses{"pool-id-1": "ONLINE"}, Members: statuses{"member-id-1": "OFFLINE"}},
		},
		{
			name:  "member_unknown: no member change",
			graph: fakeGraph(),
			msg:   beat(statuses{"listener-id-1": "OPEN"}, map[string]heartbeat.Pool{"pool-id-1:listener-id-1": pool("UP", statuses{"member-id-1": "blah"})}),
			want: events.OperatingStatusesChanged{LoadBalancer: "ONLINE", Listeners: statuses{"listener-id-1": "ONLINE"},
				Pools: statuses{"pool-id-1": "ONLINE"}},
			warnings: 1,
		},
		{
			name:  "member_down: pool and load balancer DEGRADED",
			graph: fakeGraph(),
			msg:   beat(statuses{"listener-id-1": "OPEN"}, map[string]heartbeat.Pool{"pool-id-1:listener-id-1": pool("UP", statuses{"member-id-1": "DOWN"})}),
			want: events.OperatingStatusesChanged{LoadBalancer: "DEGRADED", Listeners: statuses{"listener-id-1": "ONLINE"},
				Pools: statuses{"pool-id-1": "DEGRADED"}, Members: statuses{"member-id-1": "ERROR"}},
		},
		{
			name:  "member_missing_no_hm: NO_MONITOR member unreported stays",
			graph: fakeGraph(noMonitor),
			msg:   beat(statuses{"listener-id-1": "OPEN"}, map[string]heartbeat.Pool{"pool-id-1:listener-id-1": pool("UP", statuses{})}),
			want: events.OperatingStatusesChanged{LoadBalancer: "ONLINE", Listeners: statuses{"listener-id-1": "ONLINE"},
				Pools: statuses{"pool-id-1": "ONLINE"}},
		},
		{
			name:  "member_down_no_hm: MAINT -> OFFLINE",
			graph: fakeGraph(noMonitor),
			msg:   beat(statuses{"listener-id-1": "OPEN"}, map[string]heartbeat.Pool{"pool-id-1:listener-id-1": pool("UP", statuses{"member-id-1": "MAINT"})}),
			want: events.OperatingStatusesChanged{LoadBalancer: "ONLINE", Listeners: statuses{"listener-id-1": "ONLINE"},
				Pools: statuses{"pool-id-1": "ONLINE"}, Members: statuses{"member-id-1": "OFFLINE"}},
		},
		{
			name:  "member_no_check",
			graph: fakeGraph(),
			msg:   beat(statuses{"listener-id-1": "OPEN"}, map[string]heartbeat.Pool{"pool-id-1:listener-id-1": pool("UP", statuses{"member-id-1": "no check"})}),
			want: events.OperatingStatusesChanged{LoadBalancer: "ONLINE", Listeners: statuses{"listener-id-1": "ONLINE"},
				Pools: statuses{"pool-id-1": "ONLINE"}, Members: statuses{"member-id-1": "NO_MONITOR"}},
		},
		{
			name:  "member_admin_down: an unreported member goes OFFLINE",
			graph: fakeGraph(withMember("pool-id-1", "member-id-2", "NOTHING_MATCHABLE")),
			msg:   beat(statuses{"listener-id-1": "OPEN"}, map[string]heartbeat.Pool{"pool-id-1:listener-id-1": pool("UP", statuses{"member-id-1": "UP"})}),
			want: events.OperatingStatusesChanged{LoadBalancer: "ONLINE", Listeners: statuses{"listener-id-1": "ONLINE"},
				Pools: statuses{"pool-id-1": "ONLINE"}, Members: statuses{"member-id-1": "ONLINE", "member-id-2": "OFFLINE"}},
		},
		{
			name:  "list_full_member_down",
			graph: fakeGraph(),
			msg:   beat(statuses{"listener-id-1": "FULL"}, map[string]heartbeat.Pool{"pool-id-1:listener-id-1": pool("UP", statuses{"member-id-1": "DOWN"})}),
			want: events.OperatingStatusesChanged{LoadBalancer: "DEGRADED", Listeners: statuses{"listener-id-1": "DEGRADED"},
				Pools: statuses{"pool-id-1": "DEGRADED"}, Members: statuses{"member-id-1": "ERROR"}},
		},
		{
			name:  "error: pool DOWN",
			graph: fakeGraph(),
			msg:   beat(statuses{"listener-id-1": "OPEN"}, map[string]heartbeat.Pool{"pool-id-1:listener-id-1": pool("DOWN", statuses{"member-id-1": "DOWN"})}),
			want: events.OperatingStatusesChanged{LoadBalancer: "ERROR", Listeners: statuses{"listener-id-1": "ONLINE"},
				Pools: statuses{"pool-id-1": "ERROR"}, Members: statuses{"member-id-1": "ERROR"}},
		},
		{
			name: "full: every code path",
			graph: fakeGraph(
				withListener("listener-id-2", true, "bogus"), withListener("listener-id-3", true, "bogus"),
				withListener("listener-id-4", true, "bogus"), withListener("listener-id-5", true, "bogus"),
				withPool("pool-id-2", "bogus", "member-id-2"), withPool("pool-id-3", "bogus", "member-id-3", "member-id-31"),
				withPool("pool-id-4", "bogus", "member-id-4"), withPool("pool-id-5", "bogus", "member-id-5")),
			msg: beat(
				statuses{"listener-id-1": "FULL", "listener-id-2": "FULL", "listener-id-3": "OPEN", "listener-id-4": "OPEN", "listener-id-5": "bogus"},
				map[string]heartbeat.Pool{
					"pool-id-1:listener-id-1": pool("DOWN", statuses{"member-id-1": "DOWN"}),
					"pool-id-2:listener-id-2": pool("UP", statuses{"member-id-2": "UP"}),
					"pool-id-3:listener-id-3": pool("UP", statuses{"member-id-3": "UP", "member-id-31": "DOWN"}),
					"pool-id-4:listener-id-4": pool("UP", statuses{"member-id-4": "DRAINING"}),
					"pool-id-5:listener-id-5": pool("bogus", statuses{"member-id-5": "bogus"}),
				}),
			want: events.OperatingStatusesChanged{LoadBalancer: "ERROR",
				Listeners: statuses{"listener-id-1": "DEGRADED", "listener-id-2": "DEGRADED", "listener-id-3": "ONLINE", "listener-id-4": "ONLINE"},
				Pools:     statuses{"pool-id-1": "ERROR", "pool-id-2": "ONLINE", "pool-id-3": "DEGRADED", "pool-id-4": "ONLINE"},
				Members: statuses{"member-id-1": "ERROR", "member-id-2": "ONLINE", "member-id-3": "ONLINE",
					"member-id-31": "ERROR"}},
			warnings: 4, // listener-id-5, pool-id-5, member-id-5, member-id-4 ("DRAINING" is not HAProxy's)
		},
		{
			name:  "no_status_change: nothing to record",
			graph: fakeGraph(allOnline),
			msg:   beat(statuses{"listener-id-1": "OPEN"}, map[string]heartbeat.Pool{"pool-id-1:listener-id-1": pool("UP", statuses{"member-id-1": "UP"})}),
			want:  events.OperatingStatusesChanged{},
		},
		{
			name:  "lb_admin_down",
			graph: fakeGraph(noListener, noPool, lbDisabled),
			msg:   beat(nil, nil),
			want:  events.OperatingStatusesChanged{LoadBalancer: "OFFLINE"},
		},
		{
			name:  "lb_admin_up",
			graph: fakeGraph(noListener, noPool),
			msg:   beat(nil, nil),
			want:  events.OperatingStatusesChanged{LoadBalancer: "ONLINE"},
		},

		// Beyond Octavia's tests.
		{
			name:  "transitional statuses: UP 1/3 is up, DOWN 2/3 is down, RESTARTING keeps",
			graph: fakeGraph(allOnline, withMember("pool-id-1", "member-id-2", "ONLINE"), withMember("pool-id-1", "member-id-3", "DRAINING")),
			msg: beat(statuses{"listener-id-1": "OPEN"}, map[string]heartbeat.Pool{"pool-id-1:listener-id-1": pool("UP",
				statuses{"member-id-1": "UP 1/3", "member-id-2": "DOWN 2/3", "member-id-3": "RESTARTING"})}),
			want: events.OperatingStatusesChanged{LoadBalancer: "DEGRADED", Pools: statuses{"pool-id-1": "DEGRADED"},
				Members: statuses{"member-id-2": "ERROR"}},
		},
		{
			name:  "a disabled listener reported as STOP counts as not reported",
			graph: fakeGraph(allOnline, withListener("listener-id-2", false, "ONLINE")),
			msg: beat(statuses{"listener-id-1": "OPEN", "listener-id-2": "STOP"},
				map[string]heartbeat.Pool{"pool-id-1:listener-id-1": pool("UP", statuses{"member-id-1": "UP"})}),
			want: events.OperatingStatusesChanged{Listeners: statuses{"listener-id-2": "OFFLINE"}},
		},
		{
			name:  "a disabled pool reported counts as not reported; its members keep their statuses",
			graph: fakeGraph(allOnline, poolDisabled("pool-id-1")),
			msg:   beat(statuses{"listener-id-1": "OPEN"}, map[string]heartbeat.Pool{"pool-id-1:listener-id-1": pool("UP", statuses{"member-id-1": "MAINT"})}),
			want:  events.OperatingStatusesChanged{Pools: statuses{"pool-id-1": "OFFLINE"}},
		},
		{
			name:  "a disabled load balancer's reports count as not reported",
			graph: fakeGraph(allOnline, lbDisabled),
			msg:   beat(statuses{"listener-id-1": "STOP"}, map[string]heartbeat.Pool{"pool-id-1:listener-id-1": pool("UP", statuses{"member-id-1": "UP"})}),
			want: events.OperatingStatusesChanged{LoadBalancer: "OFFLINE", Listeners: statuses{"listener-id-1": "ERROR"},
				Pools: statuses{"pool-id-1": "OFFLINE"}},
		},
		{
			name:     "an enabled listener reported STOP: no change, not expected status",
			graph:    fakeGraph(allOnline),
			msg:      beat(statuses{"listener-id-1": "STOP"}, map[string]heartbeat.Pool{"pool-id-1:listener-id-1": pool("UP", statuses{"member-id-1": "UP"})}),
			want:     events.OperatingStatusesChanged{},
			warnings: 1,
		},
		{
			name:  "a listener the graph does not know breaks the count",
			graph: fakeGraph(allOnline),
			msg: beat(statuses{"listener-id-1": "OPEN", "listener-gone": "OPEN"},
				map[string]heartbeat.Pool{"pool-id-1:listener-id-1": pool("UP", statuses{"member-id-1": "UP"})}),
			want:     events.OperatingStatusesChanged{},
			notAlive: true,
		},
		{
			name:  "a pool key without a listener part",
			graph: fakeGraph(allOnline),
			msg:   beat(statuses{"listener-id-1": "OPEN"}, map[string]heartbeat.Pool{"pool-id-1": pool("DOWN", statuses{"member-id-1": "DOWN"})}),
			want: events.OperatingStatusesChanged{LoadBalancer: "ERROR", Pools: statuses{"pool-id-1": "ERROR"},
				Members: statuses{"member-id-1": "ERROR"}},
		},
		{
			name:  "pending delete listener of a PENDING_UPDATE load balancer goes OFFLINE",
			graph: fakeGraph(allOnline, lbProvisioning(loadbalancer.PendingUpdate), withListener("listener-id-2", true, "ONLINE")),
			msg:   beat(statuses{"listener-id-1": "OPEN"}, map[string]heartbeat.Pool{"pool-id-1:listener-id-1": pool("UP", statuses{"member-id-1": "UP"})}),
			want:  events.OperatingStatusesChanged{Listeners: statuses{"listener-id-2": "OFFLINE"}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := derive(c.graph, c.msg)
			want := c.want
			want.LoadBalancerID = lbID
			if !reflect.DeepEqual(d.Change, want) {
				t.Errorf("change\n got %+v\nwant %+v", d.Change, want)
			}
			if d.Alive == c.notAlive {
				t.Errorf("alive = %v (reported %d, expected %d)", d.Alive, d.ReportedListeners, d.ExpectedListeners)
			}
			if len(d.Warnings) != c.warnings {
				t.Errorf("warnings %q, want %d", d.Warnings, c.warnings)
			}
			if d.changed() != !reflect.DeepEqual(c.want, events.OperatingStatusesChanged{}) {
				t.Errorf("changed() = %v", d.changed())
			}
		})
	}
}

// A derived change applied to the state derives nothing more: a second
// identical heartbeat records nothing.
func TestDeriveIsStable(t *testing.T) {
	s := fakeGraph(withMember("pool-id-1", "member-id-2", "NOTHING_MATCHABLE"))
	msg := beat(statuses{"listener-id-1": "FULL"}, map[string]heartbeat.Pool{
		"pool-id-1:listener-id-1": pool("UP", statuses{"member-id-1": "DOWN"})})
	first := derive(s, msg)
	if !first.changed() {
		t.Fatal("first heartbeat changed nothing")
	}
	evs, err := loadbalancer.Decide(s, loadbalancer.RecordOperatingStatuses{Change: first.Change})
	if err != nil || len(evs) != 1 {
		t.Fatalf("decide: %v, %v", evs, err)
	}
	s = loadbalancer.Evolve(s, s.Version+1, s.LoadBalancer.CreatedAt, evs[0])
	if again := derive(s, msg); again.changed() {
		t.Errorf("second heartbeat changes %+v", again.Change)
	}
}
