package health

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/amphora/heartbeat"
	"github.com/octavia-es/octavia-es/adapters/eventstore/sqlite"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/projections"
)

// Over the real store, aggregate, projector and read model: a heartbeat
// turns into one event and the read model's statuses and stats; silence
// turns into a failover recorded by the health manager.
func TestManagerOverTheRealPipeline(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "events.db"), sqlite.WithPollInterval(2*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	reg := events.NewRegistry()
	handler := loadbalancer.NewHandler(store, reg, log)
	rm, err := projections.Open(ctx, filepath.Join(dir, "read.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer rm.Close()
	projected := make(chan error, 1)
	go func() { projected <- projections.NewProjector(rm, store, reg, log).Run(ctx) }()
	defer func() { cancel(); <-projected }()

	const lb, amp, lis = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222", "33333333-3333-3333-3333-333333333333"
	md := events.Metadata{Actor: events.Actor{ProjectID: "p"}}
	var pos int64
	run := func(cmd loadbalancer.Command) {
		t.Helper()
		res, err := handler.Execute(ctx, lb, cmd, md)
		if err != nil {
			t.Fatalf("%T: %v", cmd, err)
		}
		pos = max(pos, res.Position)
	}
	run(loadbalancer.CreateLoadBalancer{Spec: events.LoadBalancer{ID: lb, ProjectID: "p", AdminStateUp: true, Provider: "amphora"}})
	run(loadbalancer.RecordVipAllocated{Vip: events.VipAllocated{VipAddress: "127.100.0.5", VipPortID: "port", VipSubnetID: "subnet", VipNetworkID: "net"}})
	run(loadbalancer.RecordAmphoraBooted{Amphora: events.Amphora{ID: amp, ComputeID: "c", Role: "STANDALONE", AmphoraDriver: "agent"}})
	run(loadbalancer.ActivateLoadBalancer{})
	run(loadbalancer.CreateListener{Spec: events.Listener{ID: lis, ProjectID: "p", LoadBalancerID: lb, AdminStateUp: true,
		Protocol: "HTTP", ProtocolPort: 80, ConnectionLimit: -1, ClientAuthentication: "NONE",
		TimeoutClientData: 50000, TimeoutMemberConnect: 5000, TimeoutMemberData: 50000}})
	run(loadbalancer.RecordConfigurationApplied{})
	wait := func() {
		t.Helper()
		wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
		defer wcancel()
		if err := rm.WaitFor(wctx, pos); err != nil {
			t.Fatal(err)
		}
	}
	wait()

	c := newClock()
	m, err := New(handler, rm, Config{Now: c.Now}, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	hb := heartbeat.Message{AmphoraID: amp, Seq: 1, Version: heartbeat.Version, Listeners: map[string]heartbeat.Listener{
		lis: {Status: "OPEN", Stats: heartbeat.Stats{RX: 10, TX: 20, Conns: 1, TotConns: 1}}}}
	for range 2 {
		if err := m.HandleHeartbeat(ctx, hb); err != nil {
			t.Fatal(err)
		}
	}
	s, err := handler.Load(ctx, lb)
	if err != nil {
		t.Fatal(err)
	}
	envs, err := store.ReadStream(ctx, events.StreamFor(lb), 0)
	if err != nil {
		t.Fatal(err)
	}
	var changes int
	for _, e := range envs {
		if e.Type == (events.OperatingStatusesChanged{}).EventType() {
			changes++
			if e.Actor.UserID != ActorID {
				t.Errorf("status change recorded by %+v", e.Actor)
			}
			pos = max(pos, e.Position)
		}
	}
	if changes != 1 || s.LoadBalancer.OperatingStatus != "ONLINE" || s.Listeners[lis].OperatingStatus != "ONLINE" {
		t.Fatalf("%d status events; lb %s listener %s", changes, s.LoadBalancer.OperatingStatus, s.Listeners[lis].OperatingStatus)
	}
	wait()
	if v, err := rm.GetListener(ctx, lis); err != nil || v.OperatingStatus != "ONLINE" {
		t.Errorf("read model listener %+v, %v", v.OperatingStatus, err)
	}
	want := projections.Stats{BytesIn: 20, BytesOut: 40, ActiveConnections: 1, TotalConnections: 2}
	if st, err := rm.LoadBalancerStats(ctx, lb); err != nil || st != want {
		t.Errorf("stats %+v, %v; want %+v", st, err, want)
	}

	// Silence: failed over once, by the health manager.
	c.advance(4 * time.Second)
	for range 2 {
		if err := m.check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	envs, err = store.ReadStream(ctx, events.StreamFor(lb), 0)
	if err != nil {
		t.Fatal(err)
	}
	var failovers int
	for _, e := range envs {
		if e.Type == (events.LoadBalancerFailoverRequested{}).EventType() {
			failovers++
			if e.Actor.UserID != ActorID || e.CorrelationID == "" {
				t.Errorf("failover requested by %+v (correlation %q)", e.Actor, e.CorrelationID)
			}
		}
	}
	if failovers != 1 {
		t.Errorf("%d failovers requested, want 1", failovers)
	}
}
