package health

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/amphora/heartbeat"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/projections"
)

// graphFor is fakeGraph as load balancer id, served by the given amphorae
// (run by the "agent" driver).
func graphFor(id string, amphorae []string, opts ...graphOpt) loadbalancer.State {
	s := fakeGraph(opts...)
	s.ID, s.LoadBalancer.Spec.ID = id, id
	for _, a := range amphorae {
		s.Amphorae[a] = events.Amphora{ID: a, LoadBalancerID: id, AmphoraDriver: "agent"}
	}
	return s
}

func record(amp, lb, driver string) projections.AmphoraRecord {
	return projections.AmphoraRecord{ID: amp, LoadBalancerID: lb, Status: projections.AmphoraAllocated,
		AmphoraDriver: driver, LoadBalancerProvisioning: loadbalancer.Active}
}

func newTestManager(t *testing.T, exec Executor, rm ReadModel, c *clock, tune func(*Config)) *Manager {
	t.Helper()
	cfg := Config{HeartbeatTimeout: 3 * time.Second, CheckInterval: time.Second, Now: c.Now}
	if tune != nil {
		tune(&cfg)
	}
	m, err := New(exec, rm, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// healthy is a heartbeat of amp reporting fakeGraph's objects up.
func healthy(amp string) heartbeat.Message {
	m := beat(statuses{"listener-id-1": "OPEN"}, map[string]heartbeat.Pool{
		"pool-id-1:listener-id-1": pool("UP", statuses{"member-id-1": "UP"})})
	m.AmphoraID = amp
	return m
}

func TestHeartbeatRecordsChangesOnly(t *testing.T) {
	ctx := context.Background()
	exec := newFakeExecutor(graphFor(lbID, []string{"amp-1"}))
	m := newTestManager(t, exec, newFakeReadModel(record("amp-1", lbID, "agent")), newClock(), nil)

	for range 3 {
		if err := m.HandleHeartbeat(ctx, healthy("amp-1")); err != nil {
			t.Fatal(err)
		}
	}
	recs := commandsOf[loadbalancer.RecordOperatingStatuses](exec)
	if len(recs) != 1 {
		t.Fatalf("%d RecordOperatingStatuses for three identical heartbeats, want 1", len(recs))
	}
	want := events.OperatingStatusesChanged{LoadBalancerID: lbID, LoadBalancer: "ONLINE",
		Listeners: statuses{"listener-id-1": "ONLINE"}, Pools: statuses{"pool-id-1": "ONLINE"},
		Members: statuses{"member-id-1": "ONLINE"}}
	if !reflect.DeepEqual(recs[0].Change, want) {
		t.Errorf("change %+v, want %+v", recs[0].Change, want)
	}
	if md := exec.executed[0].md; md.Actor.UserID != "octavia-health-manager" || md.CorrelationID == "" {
		t.Errorf("metadata %+v", md)
	}

	// The member goes down: only what changed is recorded.
	down := healthy("amp-1")
	down.Pools["pool-id-1:listener-id-1"] = pool("UP", statuses{"member-id-1": "DOWN"})
	if err := m.HandleHeartbeat(ctx, down); err != nil {
		t.Fatal(err)
	}
	recs = commandsOf[loadbalancer.RecordOperatingStatuses](exec)
	want = events.OperatingStatusesChanged{LoadBalancerID: lbID, LoadBalancer: "DEGRADED",
		Pools: statuses{"pool-id-1": "DEGRADED"}, Members: statuses{"member-id-1": "ERROR"}}
	if len(recs) != 2 || !reflect.DeepEqual(recs[1].Change, want) {
		t.Fatalf("after the member went down: %+v", recs)
	}
	s := exec.state(lbID)
	if s.Members["member-id-1"].OperatingStatus != "ERROR" || s.LoadBalancer.OperatingStatus != "DEGRADED" {
		t.Errorf("state not updated: member %s, lb %s", s.Members["member-id-1"].OperatingStatus, s.LoadBalancer.OperatingStatus)
	}
}

func TestHeartbeatStats(t *testing.T) {
	ctx := context.Background()
	exec := newFakeExecutor(graphFor(lbID, []string{"amp-1"}, allOnline, withListener("listener-id-2", true, "ONLINE")))
	rm := newFakeReadModel(record("amp-1", lbID, "agent"))
	m := newTestManager(t, exec, rm, newClock(), nil)

	msg := func(l1, l2 heartbeat.Stats) heartbeat.Message {
		h := healthy("amp-1")
		h.Listeners["listener-id-1"] = heartbeat.Listener{Status: "OPEN", Stats: l1}
		h.Listeners["listener-id-2"] = heartbeat.Listener{Status: "OPEN", Stats: l2}
		h.Listeners["listener-unknown"] = heartbeat.Listener{Status: "OPEN", Stats: heartbeat.Stats{RX: 9}}
		return h
	}
	beats := []struct {
		name   string
		l1, l2 heartbeat.Stats
		want   map[string]projections.Stats // nil: nothing written
	}{
		{"first report, idle l2 written too",
			heartbeat.Stats{RX: 100, TX: 200, Conns: 2, TotConns: 3, EReq: 1}, heartbeat.Stats{},
			map[string]projections.Stats{
				"listener-id-1": {BytesIn: 100, BytesOut: 200, ActiveConnections: 2, TotalConnections: 3, RequestErrors: 1},
				"listener-id-2": {}}},
		{"nothing moved", heartbeat.Stats{Conns: 2}, heartbeat.Stats{}, nil},
		{"connections closed", heartbeat.Stats{}, heartbeat.Stats{},
			map[string]projections.Stats{"listener-id-1": {}}},
		{"traffic on l2", heartbeat.Stats{}, heartbeat.Stats{RX: 5, TX: 6, Conns: 1, TotConns: 1},
			map[string]projections.Stats{"listener-id-2": {BytesIn: 5, BytesOut: 6, ActiveConnections: 1, TotalConnections: 1}}},
	}
	for _, b := range beats {
		before := len(rm.writes())
		if err := m.HandleHeartbeat(ctx, msg(b.l1, b.l2)); err != nil {
			t.Fatalf("%s: %v", b.name, err)
		}
		w := rm.writes()
		switch {
		case b.want == nil && len(w) != before:
			t.Errorf("%s: wrote %+v", b.name, w[len(w)-1])
		case b.want != nil && (len(w) != before+1 || w[len(w)-1].amphoraID != "amp-1" || !reflect.DeepEqual(w[len(w)-1].deltas, b.want)):
			t.Errorf("%s: writes %+v, want %+v", b.name, w[before:], b.want)
		}
	}
	if n := len(commandsOf[loadbalancer.RecordOperatingStatuses](exec)); n != 0 {
		t.Errorf("%d status records for an all-ONLINE graph", n)
	}
}

func TestHeartbeatIgnored(t *testing.T) {
	ctx := context.Background()
	gone := graphFor("lb-gone", nil) // the amphora is deleted in the stream, not yet in the read model
	exec := newFakeExecutor(graphFor(lbID, []string{"amp-noop"}), gone)
	rm := newFakeReadModel(record("amp-noop", lbID, "noop"), record("amp-deleted", "lb-gone", "agent"))
	m := newTestManager(t, exec, rm, newClock(), nil)

	cases := []struct {
		name    string
		msg     heartbeat.Message
		wantErr bool
	}{
		{"no amphora id", heartbeat.Message{}, true},
		{"unknown amphora", healthy("amp-unknown"), false},
		{"noop amphora", healthy("amp-noop"), false},
		{"deleted amphora", healthy("amp-deleted"), false},
	}
	for _, c := range cases {
		if err := m.HandleHeartbeat(ctx, c.msg); (err != nil) != c.wantErr {
			t.Errorf("%s: err %v", c.name, err)
		}
		if _, watched := m.LastSeen(c.msg.AmphoraID); watched {
			t.Errorf("%s: amphora watched", c.name)
		}
	}
	if len(exec.executed) != 0 || len(rm.writes()) != 0 {
		t.Errorf("executed %+v, stats %+v", exec.executed, rm.writes())
	}
}

// A store failure says nothing about the amphora: it stays alive.
func TestHeartbeatLoadFailure(t *testing.T) {
	c := newClock()
	exec := newFakeExecutor(graphFor(lbID, []string{"amp-1"}))
	m := newTestManager(t, exec, newFakeReadModel(record("amp-1", lbID, "agent")), c, nil)
	if err := m.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.advance(2 * time.Second)
	exec.loadErr = errors.New("disk on fire")
	if err := m.HandleHeartbeat(context.Background(), healthy("amp-1")); err == nil {
		t.Error("load failure not reported")
	}
	if seen, _ := m.LastSeen("amp-1"); !seen.Equal(c.Now()) {
		t.Errorf("last seen %v, want %v", seen, c.Now())
	}
}

// check runs one round and returns the load balancers failed over so far.
func failedOver(t *testing.T, m *Manager, exec *fakeExecutor) []string {
	t.Helper()
	if err := m.check(context.Background()); err != nil {
		t.Fatal(err)
	}
	exec.mu.Lock()
	defer exec.mu.Unlock()
	var ids []string
	for _, e := range exec.executed {
		if _, ok := e.cmd.(loadbalancer.FailoverLoadBalancer); ok {
			ids = append(ids, e.lbID)
			if e.md.Actor.UserID != ActorID {
				t.Errorf("failover metadata %+v", e.md)
			}
		}
	}
	return ids
}

func TestStaleAmphoraFailedOverOnce(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	exec := newFakeExecutor(graphFor(lbID, []string{"amp-1"}, allOnline),
		graphFor("lb-noop", []string{"amp-noop"}), graphFor("lb-old", []string{"amp-old"}))
	rm := newFakeReadModel(record("amp-1", lbID, "agent"), record("amp-noop", "lb-noop", "noop"),
		record("amp-old", "lb-old", "")) // recorded before amphorae carried their driver
	m := newTestManager(t, exec, rm, c, nil)
	if err := m.refresh(ctx); err != nil { // Run's seed
		t.Fatal(err)
	}
	if seen, ok := m.LastSeen("amp-1"); !ok || !seen.Equal(c.Now()) {
		t.Fatalf("amp-1 not seeded: %v %v", seen, ok)
	}

	c.advance(2 * time.Second)
	if got := failedOver(t, m, exec); len(got) != 0 {
		t.Fatalf("failed over before the timeout: %v", got)
	}
	if err := m.HandleHeartbeat(ctx, healthy("amp-1")); err != nil {
		t.Fatal(err)
	}
	c.advance(2500 * time.Millisecond) // 4.5 s after the seed, 2.5 s after the heartbeat
	if got := failedOver(t, m, exec); len(got) != 0 {
		t.Fatalf("a heartbeat did not keep the amphora alive: %v", got)
	}
	c.advance(time.Second)
	if got := failedOver(t, m, exec); !reflect.DeepEqual(got, []string{lbID}) {
		t.Fatalf("failed over %v, want [%s]", got, lbID)
	}
	if s := exec.state(lbID); s.Operation != "failover" || s.LoadBalancer.ProvisioningStatus != loadbalancer.PendingUpdate {
		t.Errorf("load balancer %s %q", s.LoadBalancer.ProvisioningStatus, s.Operation)
	}
	// The failover runs, then ends (ACTIVE again) before the read model
	// shows the old amphora deleted: it is not failed over again.
	for round := range 3 {
		c.advance(time.Second)
		if round == 1 {
			exec.mu.Lock()
			s := exec.states[lbID]
			s.LoadBalancer.ProvisioningStatus, s.Operation = loadbalancer.Active, ""
			exec.states[lbID] = s
			exec.mu.Unlock()
		}
		if got := failedOver(t, m, exec); !reflect.DeepEqual(got, []string{lbID}) {
			t.Fatalf("round %d: failed over %v, want [%s] once", round, got, lbID)
		}
	}

	// The saga replaced the amphora: the old one is forgotten, the new one
	// watched from the moment it is seen.
	rm.remove("amp-1")
	rm.set(record("amp-2", lbID, "agent"))
	c.advance(10 * time.Second)
	if got := failedOver(t, m, exec); len(got) != 1 {
		t.Errorf("failovers %v after the replacement", got)
	}
	if _, ok := m.LastSeen("amp-1"); ok {
		t.Error("deleted amphora still watched")
	}
	if seen, ok := m.LastSeen("amp-2"); !ok || !seen.Equal(c.Now()) {
		t.Errorf("new amphora last seen %v, %v", seen, ok)
	}
}

// An amphora whose heartbeats do not report every listener is not alive
// (Octavia does not refresh its health): it is failed over.
func TestHeartbeatMissingListenerIsNotLife(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	exec := newFakeExecutor(graphFor(lbID, []string{"amp-1"}, allOnline))
	m := newTestManager(t, exec, newFakeReadModel(record("amp-1", lbID, "agent")), c, nil)
	if err := m.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		c.advance(time.Second)
		if err := m.HandleHeartbeat(ctx, heartbeat.Message{AmphoraID: "amp-1", Version: 3}); err != nil {
			t.Fatal(err)
		}
	}
	if s := exec.state(lbID); s.Listeners["listener-id-1"].OperatingStatus != "ERROR" {
		t.Errorf("listener %s, want ERROR", s.Listeners["listener-id-1"].OperatingStatus)
	}
	if got := failedOver(t, m, exec); len(got) != 1 {
		t.Errorf("failovers %v, want one", got)
	}
}

func TestFailoverThreshold(t *testing.T) {
	ctx := context.Background()
	lbs := []string{"lb-a", "lb-b", "lb-c"}
	setup := func(threshold int) (*Manager, *fakeExecutor, *clock) {
		c := newClock()
		var states []loadbalancer.State
		rm := newFakeReadModel()
		for _, lb := range lbs {
			states = append(states, graphFor(lb, []string{"amp-" + lb}, allOnline))
			rm.set(record("amp-"+lb, lb, "agent"))
		}
		exec := newFakeExecutor(states...)
		m := newTestManager(t, exec, rm, c, func(cfg *Config) { cfg.FailoverThreshold = threshold })
		if err := m.refresh(ctx); err != nil {
			t.Fatal(err)
		}
		c.advance(4 * time.Second)
		return m, exec, c
	}

	m, exec, _ := setup(3)
	if got := failedOver(t, m, exec); len(got) != 0 {
		t.Errorf("threshold 3, 3 stale: failed over %v", got)
	}
	// One comes back: two stale, below the threshold, are failed over.
	if err := m.HandleHeartbeat(ctx, healthy("amp-lb-b")); err != nil {
		t.Fatal(err)
	}
	if got := failedOver(t, m, exec); !reflect.DeepEqual(got, []string{"lb-a", "lb-c"}) {
		t.Errorf("below the threshold: failed over %v", got)
	}

	for _, th := range []int{0, 4} {
		m, exec, _ := setup(th)
		if got := failedOver(t, m, exec); !reflect.DeepEqual(got, lbs) {
			t.Errorf("threshold %d: failed over %v, want all", th, got)
		}
	}
}

func TestFailoverConditions(t *testing.T) {
	cases := []struct {
		name     string
		record   func(*projections.AmphoraRecord)
		state    graphOpt
		want     bool
		thenWant bool // after the load balancer settles to ACTIVE
	}{
		{"ACTIVE", nil, nil, true, true},
		{"load balancer ERROR (FAILOVERABLE_STATUSES)", func(r *projections.AmphoraRecord) { r.LoadBalancerProvisioning = "ERROR" },
			lbProvisioning(loadbalancer.ErrorStatus), true, true},
		{"load balancer PENDING_UPDATE in the read model: later", func(r *projections.AmphoraRecord) { r.LoadBalancerProvisioning = "PENDING_UPDATE" },
			nil, false, true},
		{"locked in the stream, not yet in the read model: refused, later", nil,
			lbProvisioning(loadbalancer.PendingUpdate), false, true},
		{"amphora ERROR after a failed failover: never", func(r *projections.AmphoraRecord) { r.Status = projections.AmphoraError },
			nil, false, false},
		{"amphora PENDING_DELETE: never", func(r *projections.AmphoraRecord) { r.Status = projections.AmphoraPendingDelete },
			nil, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := newClock()
			var opts []graphOpt
			if c.state != nil {
				opts = append(opts, c.state)
			}
			exec := newFakeExecutor(graphFor(lbID, []string{"amp-1"}, opts...))
			rec := record("amp-1", lbID, "agent")
			if c.record != nil {
				c.record(&rec)
			}
			rm := newFakeReadModel(rec)
			m := newTestManager(t, exec, rm, clk, nil)
			if err := m.refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			clk.advance(5 * time.Second)
			if got := failedOver(t, m, exec); (len(got) == 1) != c.want {
				t.Fatalf("failed over %v, want %v", got, c.want)
			}
			if c.want {
				return
			}
			// The load balancer settles (the amphora keeps its status).
			exec.mu.Lock()
			s := exec.states[lbID]
			s.LoadBalancer.ProvisioningStatus = loadbalancer.Active
			exec.states[lbID] = s
			exec.mu.Unlock()
			rec.LoadBalancerProvisioning = loadbalancer.Active
			rm.set(rec)
			if got := failedOver(t, m, exec); (len(got) == 1) != c.thenWant {
				t.Errorf("once ACTIVE: failed over %v, want %v", got, c.thenWant)
			}
		})
	}
}

func TestRun(t *testing.T) {
	exec := newFakeExecutor(graphFor(lbID, []string{"amp-1"}))
	m, err := New(exec, newFakeReadModel(record("amp-1", lbID, "agent")),
		Config{HeartbeatTimeout: 30 * time.Millisecond, CheckInterval: 5 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(commandsOf[loadbalancer.FailoverLoadBalancer](exec)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the silent amphora was never failed over")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
	if n := len(commandsOf[loadbalancer.FailoverLoadBalancer](exec)); n != 1 {
		t.Errorf("%d failovers, want 1", n)
	}
}

func TestNew(t *testing.T) {
	exec, rm := newFakeExecutor(), newFakeReadModel()
	bad := []struct {
		name string
		exec Executor
		rm   ReadModel
		cfg  Config
	}{
		{"no executor", nil, rm, Config{}},
		{"no read model", exec, nil, Config{}},
		{"negative timeout", exec, rm, Config{HeartbeatTimeout: -time.Second}},
		{"negative interval", exec, rm, Config{CheckInterval: -time.Second}},
		{"negative threshold", exec, rm, Config{FailoverThreshold: -1}},
	}
	for _, b := range bad {
		if _, err := New(b.exec, b.rm, b.cfg, nil); err == nil {
			t.Errorf("%s accepted", b.name)
		}
	}
	m, err := New(exec, rm, Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.cfg.HeartbeatTimeout != 3*time.Second || m.cfg.CheckInterval != 500*time.Millisecond || m.cfg.Now == nil {
		t.Errorf("defaults %+v", m.cfg)
	}
}
