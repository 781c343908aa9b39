package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/octavia-es/octavia-es/adapters/metrics"
	"github.com/octavia-es/octavia-es/http/healthcheck"
	"github.com/octavia-es/octavia-es/projections"
)

// projectionStallAfter: a read model behind the store that has not moved
// for this long fails the healthcheck (behind but moving is load, not a fault).
const projectionStallAfter = 30 * time.Second

// heads is what the healthcheck and the lag gauge read of the event store.
type heads interface {
	Head(ctx context.Context) (int64, error)
}

// healthChecks: the event store answers, and the read model answers and
// is not stalled behind it (Octavia checks its one database).
func healthChecks(store heads, rm *projections.ReadModel) []healthcheck.Check {
	stall := &stallCheck{store: store, rm: rm, after: projectionStallAfter, now: time.Now}
	return []healthcheck.Check{
		{Name: "Event store", Fn: func(ctx context.Context) error { _, err := store.Head(ctx); return err }},
		{Name: "Read model", Fn: stall.check},
	}
}

// checkpointer is a read model's position.
type checkpointer interface {
	Checkpoint(ctx context.Context) (int64, error)
}

// stallCheck fails when the read model is behind the store and its
// checkpoint has not moved for after.
type stallCheck struct {
	store heads
	rm    checkpointer
	after time.Duration
	now   func() time.Time

	mu    sync.Mutex
	last  int64
	since time.Time // since when the read model is behind at last
}

func (s *stallCheck) check(ctx context.Context) error {
	cp, err := s.rm.Checkpoint(ctx)
	if err != nil {
		return err
	}
	head, err := s.store.Head(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	lag := head - cp
	if s.since.IsZero() || cp != s.last || lag <= 0 { // the stall starts when it is behind and still
		s.last, s.since = cp, now
	}
	if lag > 0 && now.Sub(s.since) >= s.after {
		return fmt.Errorf("projection stalled %d events behind the event store for %s", lag, now.Sub(s.since).Round(time.Second))
	}
	return nil
}

// amphoraeByStatus counts the read model's amphorae for the metrics.
func amphoraeByStatus(rm *projections.ReadModel) metrics.AmphoraCounter {
	return func(ctx context.Context) (map[string]int, error) {
		recs, err := rm.AmphoraRecords(ctx)
		if err != nil {
			return nil, err
		}
		out := map[string]int{}
		for _, r := range recs {
			out[r.Status]++
		}
		return out, nil
	}
}

// opsHandler serves /metrics and /healthcheck on a process's metrics.listen
// (processes without the API, or an API that keeps them off its port).
func opsHandler(m *metrics.Metrics, health http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	if health != nil {
		mux.Handle("/healthcheck", health)
	}
	return mux
}

// serveOps serves h on addr until ctx ends; "" serves nothing.
func serveOps(ctx context.Context, addr string, h http.Handler, log *slog.Logger) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "err", err)
		}
	}()
	log.Info("metrics and healthcheck serving", "listen", ln.Addr().String())
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
}
