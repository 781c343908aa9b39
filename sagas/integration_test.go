package sagas

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	amphoranoop "github.com/octavia-es/octavia-es/adapters/amphora/noop"
	"github.com/octavia-es/octavia-es/adapters/bus"
	computenoop "github.com/octavia-es/octavia-es/adapters/compute/noop"
	"github.com/octavia-es/octavia-es/adapters/eventstore/sqlite"
	networknoop "github.com/octavia-es/octavia-es/adapters/network/noop"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
)

// The whole embedded pipeline: SQLite store, command handler, forwarder,
// GoChannel, router, provisioner. A tenant command alone brings the load
// balancer to ACTIVE, and a delete makes it gone.
func TestPipelineEndToEnd(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "events.db"), sqlite.WithPollInterval(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	handler := loadbalancer.NewHandler(store, events.NewRegistry(), log)

	net, _ := networknoop.New(networknoop.DefaultConfig())
	comp, _ := computenoop.New(computenoop.Config{})
	amp, _ := amphoranoop.New(amphoranoop.Config{})
	prov, err := NewProvisioner(handler, Drivers{Network: net, Compute: comp, Amphora: amp}, fastConfig, log)
	if err != nil {
		t.Fatal(err)
	}

	pubsub := bus.NewGoChannel(log)
	router, err := bus.NewRouter(bus.RouterConfig{RetryInitialInterval: time.Millisecond, RetryMaxInterval: 5 * time.Millisecond}, log)
	if err != nil {
		t.Fatal(err)
	}
	router.AddConsumerHandler("sagas.provisioning", bus.Topic, pubsub, bus.EnvelopeHandler(prov.HandleEnvelope, log))
	fwd := bus.NewForwarder(store, store.Checkpoints(), pubsub, bus.Topic, log)
	fwd.Ready = router.Running()
	var wg sync.WaitGroup
	wg.Go(func() { _ = router.Run(ctx) })
	wg.Go(func() {
		if err := fwd.Run(ctx); err != nil {
			t.Errorf("forwarder: %v", err)
		}
	})
	defer func() {
		cancel()
		_ = router.Close()
		wg.Wait()
		_ = pubsub.Close()
	}()

	status := func() loadbalancer.State {
		s, err := handler.Load(ctx, lbID)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	waitUntil := func(what string, cond func(loadbalancer.State) bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond(status()) {
			if time.Now().After(deadline) {
				s := status()
				t.Fatalf("timed out waiting for %s: status %s, operation %q", what, s.LoadBalancer.ProvisioningStatus, s.Operation)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	if _, err := handler.Execute(ctx, lbID, loadbalancer.CreateLoadBalancer{Spec: lbSpec()}, events.Metadata{CorrelationID: "req-1"}); err != nil {
		t.Fatal(err)
	}
	waitUntil("ACTIVE", func(s loadbalancer.State) bool { return s.LoadBalancer.ProvisioningStatus == loadbalancer.Active })

	if _, err := handler.Execute(ctx, lbID, loadbalancer.CreateListener{Spec: listenerSpec("l1", 80)}, events.Metadata{}); err != nil {
		t.Fatal(err)
	}
	waitUntil("the listener ACTIVE", func(s loadbalancer.State) bool {
		return s.Listeners["l1"] != nil && s.Listeners["l1"].ProvisioningStatus == loadbalancer.Active && s.Operation == ""
	})

	if _, err := handler.Execute(ctx, lbID, loadbalancer.DeleteLoadBalancer{Cascade: true}, events.Metadata{}); err != nil {
		t.Fatal(err)
	}
	waitUntil("gone", func(s loadbalancer.State) bool { return s.Gone })
	if comp.Running() != 0 || comp.Count(computenoop.OpCreateAmphora) != 1 {
		t.Fatalf("instances running %d, creates %d; want 0 and 1", comp.Running(), comp.Count(computenoop.OpCreateAmphora))
	}
}
