package eventstoredb

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/adapters/eventstore/eventstoretest"
	"github.com/octavia-es/octavia-es/events"
)

// The store's logic against the fake server, through the whole conformance
// suite: positions with gaps, other namespaces' and system events in $all,
// pages small enough to be crossed.
func TestConformanceOnFake(t *testing.T) {
	cases := []struct {
		name  string
		opts  []Option
		noise []string
	}{
		{"namespace", []Option{WithNamespace("t1-"), WithStreamPrefix("")}, []string{"$stats-127.0.0.1:2113", "t2-other"}},
		{"no namespace", []Option{WithStreamPrefix("")}, []string{"$et-noise", "$$lb-1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eventstoretest.RunWithFeatures(t, eventstoretest.Features{}, func(t *testing.T) eventstore.Store {
				srv := newFakeServer()
				srv.noise = c.noise
				return openFake(t, srv, c.opts...)
			})
		})
	}
}

// openFake opens a store on srv with small pages and short retry pauses.
func openFake(t testing.TB, srv *fakeServer, opts ...Option) *Store {
	t.Helper()
	opts = append([]Option{WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	s, err := newStore(srv.dial, newOptions(opts))
	if err != nil {
		t.Fatal(err)
	}
	s.streamPage, s.headFirstPage, s.headPage = 4, 2, 3
	s.retryMin, s.retryMax = 0, 0
	return s
}

func envs(n int) []events.Envelope {
	out := make([]events.Envelope, n)
	for i := range out {
		out[i] = events.Envelope{Type: "loadbalancer.activated", SchemaVersion: 1, Data: []byte(`{"loadbalancer_id":"x"}`)}
	}
	return out
}

func mustAppend(t *testing.T, s *Store, stream string, expected int64, n int) []events.Envelope {
	t.Helper()
	got, err := s.Append(context.Background(), stream, expected, envs(n))
	if err != nil {
		t.Fatalf("Append(%s): %v", stream, err)
	}
	return got
}

func TestFakePositionsHaveGaps(t *testing.T) {
	// Otherwise the suite's run above would not show anything about them.
	s := openFake(t, newFakeServer())
	got := mustAppend(t, s, "loadbalancer-a", eventstore.ExpectNoStream, 2)
	if got[0].Position <= 1 || got[1].Position-got[0].Position <= 1 {
		t.Fatalf("positions %d, %d: want large, with gaps", got[0].Position, got[1].Position)
	}
}

func TestDefaultPrefix(t *testing.T) {
	srv := newFakeServer()
	s := openFake(t, srv)
	ctx := context.Background()
	if _, err := s.Append(ctx, "a-stream", eventstore.ExpectAny, envs(1)); !errors.Is(err, errStreamName) {
		t.Errorf("Append outside events.StreamPrefix: err = %v, want errStreamName", err)
	}
	if _, err := s.ReadStream(ctx, "a-stream", 0); !errors.Is(err, errStreamName) {
		t.Errorf("ReadStream outside events.StreamPrefix: err = %v, want errStreamName", err)
	}
	srv.foreign("other-1")
	want := mustAppend(t, s, events.StreamFor("lb-1"), eventstore.ExpectNoStream, 1)[0]
	srv.foreign("$stats-1")
	all, err := s.ReadAll(ctx, 0, 10)
	if err != nil || len(all) != 1 || all[0].ID != want.ID {
		t.Fatalf("ReadAll = %v, %v; want only the load balancer's event", all, err)
	}
	if f := srv.subOpts[len(srv.subOpts)-1].Filter; len(f.Prefixes) != 1 || f.Prefixes[0] != events.StreamPrefix {
		t.Errorf("server-side filter %+v, want the prefix %q", f, events.StreamPrefix)
	}
	if h, err := s.Head(ctx); err != nil || h != want.Position {
		t.Errorf("Head = %d, %v; want %d", h, err, want.Position)
	}
}
