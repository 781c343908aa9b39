package loadbalancer

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/events"
)

// statusOf reads "PROV/OP" of an object of the graph ("" if absent).
func statusOf(s State, id string) string {
	switch {
	case id == lbID:
		return s.LoadBalancer.ProvisioningStatus + "/" + s.LoadBalancer.OperatingStatus
	case s.Listeners[id] != nil:
		return s.Listeners[id].ProvisioningStatus + "/" + s.Listeners[id].OperatingStatus
	case s.Pools[id] != nil:
		return s.Pools[id].ProvisioningStatus + "/" + s.Pools[id].OperatingStatus
	case s.Members[id] != nil:
		return s.Members[id].ProvisioningStatus + "/" + s.Members[id].OperatingStatus
	case s.HealthMonitors[id] != nil:
		return s.HealthMonitors[id].ProvisioningStatus + "/" + s.HealthMonitors[id].OperatingStatus
	}
	return ""
}

func TestEvolveStatuses(t *testing.T) {
	hmDown := hmSpec("h-1", "p-1", "HTTP")
	hmDown.AdminStateUp = false
	cases := []struct {
		name      string
		given     []events.Event
		want      map[string]string // object id → "PROV/OP" ("" = absent)
		operation string
	}{
		{name: "create requested", given: activeLB()[:1],
			want: map[string]string{lbID: "PENDING_CREATE/OFFLINE"}, operation: "create"},
		{name: "activated", given: activeLB(),
			want: map[string]string{lbID: "ACTIVE/OFFLINE"}},
		{name: "listener create locks the LB", given: seq(activeLB(), []events.Event{
			events.ListenerCreateRequested{Listener: listenerSpec("l-1", "HTTP", 80)}}),
			want: map[string]string{lbID: "PENDING_UPDATE/OFFLINE", "l-1": "PENDING_CREATE/OFFLINE"}, operation: "update"},
		{name: "applied settles", given: seq(activeLB(), withListener(listenerSpec("l-1", "HTTP", 80))),
			want: map[string]string{lbID: "ACTIVE/OFFLINE", "l-1": "ACTIVE/OFFLINE"}},
		{name: "pool for a listener locks it", given: seq(activeLB(), withListener(listenerSpec("l-1", "HTTP", 80)),
			[]events.Event{events.PoolCreateRequested{Pool: func() events.Pool {
				p := poolSpec("p-1", "HTTP")
				p.ListenerID = "l-1"
				return p
			}()}}),
			want: map[string]string{lbID: "PENDING_UPDATE/OFFLINE", "l-1": "PENDING_UPDATE/OFFLINE", "p-1": "PENDING_CREATE/OFFLINE"}, operation: "update"},
		{name: "member change locks pool and listeners", given: seq(graph(), []events.Event{
			events.MemberUpdateRequested{LoadBalancerID: lbID, Member: memberSpec("m-1", "p-1", "10.0.1.1", 80)}}),
			want: map[string]string{lbID: "PENDING_UPDATE/OFFLINE", "l-1": "PENDING_UPDATE/OFFLINE", "p-1": "PENDING_UPDATE/OFFLINE",
				"m-1": "PENDING_UPDATE/NO_MONITOR", "m-2": "ACTIVE/NO_MONITOR"}, operation: "update"},
		{name: "monitor create", given: seq(graph(), []events.Event{
			events.HealthMonitorCreateRequested{LoadBalancerID: lbID, HealthMonitor: hmSpec("h-1", "p-1", "HTTP")}}),
			want: map[string]string{"h-1": "PENDING_CREATE/OFFLINE", "p-1": "PENDING_UPDATE/OFFLINE", "m-1": "ACTIVE/NO_MONITOR"}, operation: "update"},
		{name: "monitor active is ONLINE, members untouched", given: seq(graph(), withHM(hmSpec("h-1", "p-1", "HTTP"))),
			want: map[string]string{"h-1": "ACTIVE/ONLINE", "p-1": "ACTIVE/OFFLINE", "m-1": "ACTIVE/NO_MONITOR", lbID: "ACTIVE/OFFLINE"}},
		{name: "disabled monitor is OFFLINE", given: seq(graph(), withHM(hmDown)),
			want: map[string]string{"h-1": "ACTIVE/OFFLINE"}},
		{name: "member in a monitored pool starts OFFLINE", given: seq(graph(), withHM(hmSpec("h-1", "p-1", "HTTP")),
			withMember(memberSpec("m-3", "p-1", "10.0.1.3", 80))),
			want: map[string]string{"m-3": "ACTIVE/OFFLINE", "m-1": "ACTIVE/NO_MONITOR"}},
		{name: "monitor delete turns members NO_MONITOR", given: seq(graph(), withHM(hmSpec("h-1", "p-1", "HTTP")),
			withMember(memberSpec("m-3", "p-1", "10.0.1.3", 80)), []events.Event{
				events.HealthMonitorDeleteRequested{LoadBalancerID: lbID, PoolID: "p-1", HealthMonitorID: "h-1"}, applied()}),
			want: map[string]string{"h-1": "", "m-3": "ACTIVE/NO_MONITOR", "p-1": "ACTIVE/OFFLINE"}},
		{name: "pool delete takes members and monitor", given: seq(graph(), withHM(hmSpec("h-1", "p-1", "HTTP")), []events.Event{
			events.PoolDeleteRequested{LoadBalancerID: lbID, PoolID: "p-1"}}),
			want:      map[string]string{"p-1": "PENDING_DELETE/OFFLINE", "l-1": "PENDING_UPDATE/OFFLINE", "m-1": "ACTIVE/NO_MONITOR", "h-1": "ACTIVE/ONLINE"},
			operation: "update"},
		{name: "pool delete applied", given: seq(graph(), withHM(hmSpec("h-1", "p-1", "HTTP")), []events.Event{
			events.PoolDeleteRequested{LoadBalancerID: lbID, PoolID: "p-1"}, applied()}),
			want: map[string]string{"p-1": "", "m-1": "", "m-2": "", "h-1": "", "l-1": "ACTIVE/OFFLINE"}},
		{name: "listener delete applied keeps its pool", given: seq(graph(), []events.Event{
			events.ListenerDeleteRequested{LoadBalancerID: lbID, ListenerID: "l-1"}, applied()}),
			want: map[string]string{"l-1": "", "p-1": "ACTIVE/OFFLINE", "m-1": "ACTIVE/NO_MONITOR"}},
		{name: "failed member create: member ERROR, parents ACTIVE", given: seq(graph(), []events.Event{
			events.MemberCreateRequested{LoadBalancerID: lbID, Member: memberSpec("m-3", "p-1", "10.0.1.3", 80)},
			events.ConfigurationFailed{LoadBalancerID: lbID, Reason: "amphora said no"}}),
			want: map[string]string{"m-3": "ERROR/NO_MONITOR", "p-1": "ACTIVE/OFFLINE", "l-1": "ACTIVE/OFFLINE", lbID: "ACTIVE/OFFLINE"}},
		{name: "failed pool delete: pool ERROR, kept", given: seq(graph(), []events.Event{
			events.PoolDeleteRequested{LoadBalancerID: lbID, PoolID: "p-1"},
			events.ConfigurationFailed{LoadBalancerID: lbID, Reason: "x"}}),
			want: map[string]string{"p-1": "ERROR/OFFLINE", "l-1": "ACTIVE/OFFLINE", "m-1": "ACTIVE/NO_MONITOR", lbID: "ACTIVE/OFFLINE"}},
		{name: "failed LB update: LB ERROR", given: seq(activeLB(), []events.Event{
			events.LoadBalancerUpdateRequested{LoadBalancer: lbSpec()},
			events.ConfigurationFailed{LoadBalancerID: lbID, Reason: "x"}}),
			want: map[string]string{lbID: "ERROR/OFFLINE"}},
		{name: "failed create", given: seq(activeLB()[:2], []events.Event{
			events.LoadBalancerProvisioningFailed{LoadBalancerID: lbID, Operation: "create", Reason: "no compute"}}),
			want: map[string]string{lbID: "ERROR/OFFLINE"}},
		{name: "cascade delete", given: seq(graph(), withHM(hmSpec("h-1", "p-1", "HTTP")), []events.Event{
			events.LoadBalancerDeleteRequested{LoadBalancerID: lbID, Cascade: true}}),
			want: map[string]string{lbID: "PENDING_DELETE/OFFLINE", "l-1": "PENDING_DELETE/OFFLINE", "p-1": "PENDING_DELETE/OFFLINE",
				"m-1": "PENDING_DELETE/NO_MONITOR", "h-1": "PENDING_DELETE/ONLINE"}, operation: "delete"},
		{name: "failed delete", given: seq(graph(), []events.Event{
			events.LoadBalancerDeleteRequested{LoadBalancerID: lbID, Cascade: true},
			events.LoadBalancerProvisioningFailed{LoadBalancerID: lbID, Operation: "delete", Reason: "x"}}),
			want: map[string]string{lbID: "ERROR/OFFLINE", "l-1": "ERROR/OFFLINE", "m-1": "ERROR/NO_MONITOR"}},
		{name: "deleted", given: seq(graph(), []events.Event{
			events.LoadBalancerDeleteRequested{LoadBalancerID: lbID, Cascade: true}, events.LoadBalancerDeleted{LoadBalancerID: lbID}}),
			want: map[string]string{lbID: "DELETED/OFFLINE", "l-1": "", "p-1": "", "m-1": ""}},
		{name: "failover", given: seq(activeLB(), []events.Event{events.LoadBalancerFailoverRequested{LoadBalancerID: lbID}}),
			want: map[string]string{lbID: "PENDING_UPDATE/OFFLINE"}, operation: "failover"},
		{name: "batch", given: seq(graph(), withHM(hmSpec("h-1", "p-1", "TCP")), []events.Event{
			events.MembersBatchUpdateRequested{LoadBalancerID: lbID, PoolID: "p-1",
				Created: []events.Member{memberSpec("m-3", "p-1", "10.0.1.3", 80)},
				Updated: []events.Member{memberSpec("m-1", "p-1", "10.0.1.1", 80)},
				Deleted: []string{"m-2"}}}),
			want: map[string]string{"m-3": "PENDING_CREATE/OFFLINE", "m-1": "PENDING_UPDATE/NO_MONITOR", "m-2": "PENDING_DELETE/NO_MONITOR",
				"p-1": "PENDING_UPDATE/OFFLINE", "l-1": "PENDING_UPDATE/OFFLINE", lbID: "PENDING_UPDATE/OFFLINE"}, operation: "update"},
		{name: "batch applied", given: seq(graph(), []events.Event{
			events.MembersBatchUpdateRequested{LoadBalancerID: lbID, PoolID: "p-1",
				Created: []events.Member{memberSpec("m-3", "p-1", "10.0.1.3", 80)}, Deleted: []string{"m-2"}}, applied()}),
			want: map[string]string{"m-3": "ACTIVE/NO_MONITOR", "m-2": "", "m-1": "ACTIVE/NO_MONITOR", "p-1": "ACTIVE/OFFLINE"}},
		{name: "operating statuses", given: seq(graph(), []events.Event{events.OperatingStatusesChanged{LoadBalancerID: lbID,
			LoadBalancer: "ONLINE", Members: map[string]string{"m-1": "ERROR", "m-x": "ONLINE"}}}),
			want: map[string]string{lbID: "ACTIVE/ONLINE", "m-1": "ACTIVE/ERROR", "m-2": "ACTIVE/NO_MONITOR"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := given(tc.given...)
			for id, want := range tc.want {
				if got := statusOf(s, id); got != want {
					t.Errorf("%s: %q, want %q", id, got, want)
				}
			}
			if s.Operation != tc.operation {
				t.Errorf("operation %q, want %q", s.Operation, tc.operation)
			}
			if s.PendingWork() != (tc.operation != "") {
				t.Errorf("PendingWork() = %v with operation %q", s.PendingWork(), tc.operation)
			}
			if s.Version != int64(len(tc.given)) {
				t.Errorf("version %d, want %d", s.Version, len(tc.given))
			}
		})
	}
}

func TestEvolveTimestamps(t *testing.T) {
	s := given(activeLB()[:1]...)
	if !s.LoadBalancer.CreatedAt.Equal(at(1)) || s.LoadBalancer.UpdatedAt != nil {
		t.Fatalf("created: created_at %v updated_at %v, want %v and null", s.LoadBalancer.CreatedAt, s.LoadBalancer.UpdatedAt, at(1))
	}
	s = given(activeLB()...)
	if u := s.LoadBalancer.UpdatedAt; u == nil || !u.Equal(at(4)) {
		t.Fatalf("activation must set updated_at to %v, got %v", at(4), u)
	}
	evs := seq(activeLB(), []events.Event{events.ListenerCreateRequested{Listener: listenerSpec("l-1", "HTTP", 80)}})
	s = given(evs...)
	if l := s.Listeners["l-1"]; !l.CreatedAt.Equal(at(5)) || l.UpdatedAt != nil {
		t.Fatalf("new listener: created_at %v updated_at %v", l.CreatedAt, l.UpdatedAt)
	}
	if u := s.LoadBalancer.UpdatedAt; u == nil || !u.Equal(at(5)) {
		t.Fatalf("locking the LB must move its updated_at, got %v", u)
	}
	s = given(seq(evs, []events.Event{applied()})...)
	if u := s.Listeners["l-1"].UpdatedAt; u == nil || !u.Equal(at(6)) {
		t.Fatalf("settling must move updated_at to %v, got %v", at(6), u)
	}
	// An operating status report that changes nothing moves nothing.
	s = given(seq(graph(), []events.Event{events.OperatingStatusesChanged{LoadBalancerID: lbID,
		Members: map[string]string{"m-1": "NO_MONITOR", "m-2": "ONLINE"}}})...)
	if u := s.Members["m-1"].UpdatedAt; u == nil || u.Equal(at(13)) {
		t.Fatalf("unchanged member m-1 updated_at %v must stay at its activation", u)
	}
	if u := s.Members["m-2"].UpdatedAt; u == nil || !u.Equal(at(13)) {
		t.Fatalf("changed member m-2 updated_at %v, want %v", u, at(13))
	}
}

func TestEvolveLinks(t *testing.T) {
	// Pool created for a listener becomes its default pool.
	s := given(graph()...)
	if got := strOr(s.Listeners["l-1"].Spec.DefaultPoolID); got != "p-1" {
		t.Fatalf("default_pool_id %q, want p-1", got)
	}
	if got := s.PoolListeners("p-1"); !slices.Equal(got, []string{"l-1"}) {
		t.Fatalf("PoolListeners = %v", got)
	}
	// Deleting the pool clears the listener's default pool.
	s = given(seq(graph(), []events.Event{events.PoolDeleteRequested{LoadBalancerID: lbID, PoolID: "p-1"}, applied()})...)
	if s.Listeners["l-1"].Spec.DefaultPoolID != nil {
		t.Fatalf("default_pool_id must be cleared with its pool")
	}
	// Deleting the listener unlinks the pool it was created for.
	s = given(seq(graph(), []events.Event{events.ListenerDeleteRequested{LoadBalancerID: lbID, ListenerID: "l-1"}, applied()})...)
	if p := s.Pools["p-1"]; p == nil || p.Spec.ListenerID != "" {
		t.Fatalf("pool after its listener's deletion: %+v", p)
	}
	// Pointing the listener elsewhere unlinks it too.
	l := listenerSpec("l-1", "HTTP", 80)
	s = given(seq(graph(), []events.Event{events.ListenerUpdateRequested{Listener: l}})...)
	if s.Pools["p-1"].Spec.ListenerID != "" {
		t.Fatalf("pool still linked to a listener that dropped it")
	}
}

func TestEvolveSagaProgress(t *testing.T) {
	s := given(activeLB()...)
	sp := s.LoadBalancer.Spec
	if !s.VipAllocated || strOr(sp.VipAddress) != "10.0.0.10" || strOr(sp.VipPortID) != "port-1" || strOr(sp.VipNetworkID) != "net-1" {
		t.Fatalf("VIP not recorded: %+v", sp)
	}
	if _, ok := s.Amphorae["amp-1"]; !ok {
		t.Fatalf("amphora not recorded")
	}

	evs := seq(activeLB(), []events.Event{
		events.AmphoraBooted{LoadBalancerID: lbID, Amphora: events.Amphora{ID: "amp-0"}},
		events.LoadBalancerFailoverRequested{LoadBalancerID: lbID},
	})
	s = given(evs...)
	if !slices.Equal(s.FailoverOld, []string{"amp-0", "amp-1"}) {
		t.Fatalf("FailoverOld = %v, want sorted ids", s.FailoverOld)
	}
	s = given(seq(evs, []events.Event{events.AmphoraDeleted{LoadBalancerID: lbID, AmphoraID: "amp-0"}})...)
	if !slices.Equal(s.FailoverOld, []string{"amp-1"}) || len(s.Amphorae) != 1 {
		t.Fatalf("after delete: FailoverOld %v, amphorae %v", s.FailoverOld, s.Amphorae)
	}

	s = given(seq(activeLB(), []events.Event{events.VipReleased{LoadBalancerID: lbID}})...)
	if s.VipAllocated {
		t.Fatalf("VipReleased must clear VipAllocated")
	}

	s = given(seq(graph(), []events.Event{events.PoolUpdateRequested{Pool: poolSpec("p-1", "HTTP")}})...)
	if s.PendingChangesAt != 13 || !s.PendingTargets["p-1"] || s.PendingTargets["l-1"] {
		t.Fatalf("pending: at %d targets %v", s.PendingChangesAt, s.PendingTargets)
	}
	s = Evolve(s, 14, at(14), events.ConfigurationApplied{LoadBalancerID: lbID, StreamVersion: 13})
	if s.PendingChangesAt != 0 || len(s.PendingTargets) != 0 || s.AppliedVersion != 13 || s.PendingWork() {
		t.Fatalf("settled: at %d targets %v applied %d op %q", s.PendingChangesAt, s.PendingTargets, s.AppliedVersion, s.Operation)
	}

	s = given(seq(activeLB(), []events.Event{events.LoadBalancerUpdateRequested{LoadBalancer: lbSpec()}})...)
	if !s.LoadBalancerUpdated {
		t.Fatalf("LoadBalancerUpdated not set")
	}
	s = given(seq(graph(), []events.Event{
		events.MemberDeleteRequested{LoadBalancerID: lbID, PoolID: "p-1", MemberID: "m-1"},
		events.ConfigurationFailed{LoadBalancerID: lbID, Reason: "boom"},
	})...)
	if s.ErrorReason != "boom" || s.PendingWork() {
		t.Fatalf("failure: reason %q op %q", s.ErrorReason, s.Operation)
	}
	s = given(seq(activeLB(), []events.Event{events.LoadBalancerDeleteRequested{LoadBalancerID: lbID, Cascade: true},
		events.LoadBalancerDeleted{LoadBalancerID: lbID}})...)
	if !s.Gone || !s.DeleteCascade || s.Alive() || s.PendingWork() {
		t.Fatalf("deleted: gone %v cascade %v op %q", s.Gone, s.DeleteCascade, s.Operation)
	}
}

func TestEvolveAcceptsPointersAndZeroState(t *testing.T) {
	var s State // zero value, not NewState
	s = Evolve(s, 1, t0, &events.LoadBalancerCreateRequested{LoadBalancer: lbSpec()})
	s = Evolve(s, 2, t0, &events.ListenerCreateRequested{Listener: listenerSpec("l-1", "TCP", 1)})
	if !s.Exists || s.ID != lbID || s.Listeners["l-1"] == nil {
		t.Fatalf("pointer events not applied: %+v", s)
	}
	// Events about unknown objects are facts too: no panic, nothing invented.
	s = Evolve(s, 3, t0, events.MemberUpdateRequested{LoadBalancerID: lbID, Member: memberSpec("m-x", "p-x", "1.1.1.1", 1)})
	s = Evolve(s, 4, t0, events.HealthMonitorDeleteRequested{LoadBalancerID: lbID, PoolID: "p-x", HealthMonitorID: "h-x"})
	if len(s.Members) != 0 || len(s.HealthMonitors) != 0 || s.Version != 4 {
		t.Fatalf("unknown objects invented: %+v", s)
	}
}

func TestCloneIsIndependent(t *testing.T) {
	s := given(graph()...)
	c := s.Clone()
	if !reflect.DeepEqual(s, c) {
		t.Fatalf("clone differs")
	}
	c = Evolve(c, 13, time.Now(), events.PoolDeleteRequested{LoadBalancerID: lbID, PoolID: "p-1"})
	c = Evolve(c, 14, time.Now(), applied())
	if s.Pools["p-1"] == nil || s.Pools["p-1"].ProvisioningStatus != Active || len(s.Members) != 2 || s.Version != 12 {
		t.Fatalf("evolving the clone changed the original")
	}
}
