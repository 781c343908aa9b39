package historytest_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/eventstore/sqlite"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/projections/history"
	"github.com/octavia-es/octavia-es/projections/history/historytest"
)

// Generate fills a store with valid histories: positions and versions
// contiguous, every payload decodes, the aggregate folds every stream
// (deleted, failed-over and live load balancers), and histories are
// interleaved in the store.
func TestGenerate(t *testing.T) {
	ctx := context.Background()
	for _, writers := range []int{1, 3} {
		store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "events.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		var progress []int64
		got, err := historytest.Generate(ctx, store, historytest.GenerateOptions{Events: 3000, InFlight: 40, Seed: 2,
			Writers: writers, Progress: func(n int64) { progress = append(progress, n) }})
		if err != nil {
			t.Fatal(err)
		}
		if got.Events < 3000 || got.LoadBalancers < 100 || got.Appends != 3*got.LoadBalancers ||
			len(progress) == 0 || progress[len(progress)-1] != got.Events {
			t.Fatalf("writers %d: %+v, progress %v", writers, got, progress)
		}
		reg := events.NewRegistry()
		rep, err := history.Verify(ctx, store, reg)
		if err != nil || !rep.OK() || rep.Events != got.Events || rep.Streams != got.LoadBalancers {
			t.Fatalf("verify: %+v, %v", rep, err)
		}
		all, err := store.ReadAll(ctx, 0, int(got.Events))
		if err != nil {
			t.Fatal(err)
		}
		// Interleaved: a stream's events are not all in one run of positions.
		runs := map[string]int{}
		for i, env := range all {
			if i == 0 || all[i-1].Stream != env.Stream {
				runs[env.Stream]++
			}
			if writers == 1 && i > 0 && env.Time.Before(all[i-1].Time) { // concurrent appenders stamp before they queue
				t.Fatalf("writers %d: time goes back at position %d: %v after %v (%s after %s)", writers, env.Position, env.Time, all[i-1].Time, env.Stream, all[i-1].Stream)
			}
		}
		h := loadbalancer.NewHandler(store, reg, nil)
		status := map[string]int{}
		for stream, n := range runs {
			if n < 2 {
				t.Errorf("%s is appended in one run", stream)
			}
			s, err := h.Load(ctx, history.LoadBalancerOf(events.Envelope{Stream: stream}))
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case s.Gone:
				status["deleted"]++
			case s.LoadBalancer.ProvisioningStatus == loadbalancer.Active && len(s.Members) == 3 && len(s.HealthMonitors) == 1:
				status["active"]++
			default:
				t.Errorf("%s ends %s with %d members", stream, s.LoadBalancer.ProvisioningStatus, len(s.Members))
			}
		}
		if status["deleted"] == 0 || status["active"] == 0 {
			t.Errorf("writers %d: ends %v", writers, status)
		}
	}
	if _, err := historytest.Generate(ctx, nil, historytest.GenerateOptions{}); err == nil {
		t.Error("no events asked: accepted")
	}
}
