package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/eventstore/sqlite"
)

// fakeStream serves POST /v2/lbaas/loadbalancers (each create "appends"
// perCreate events) and the SSE stream of those events; skip drops one
// position from the streams of odd subscribers.
type fakeStream struct {
	perCreate int
	skip      int64

	mu      sync.Mutex
	events  []string // the time of each position (1-based)
	changed chan struct{}
	subs    int
}

func newFakeStream(perCreate int) *fakeStream {
	return &fakeStream{perCreate: perCreate, changed: make(chan struct{})}
}

func (f *fakeStream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/v2/lbaas/loadbalancers":
		f.mu.Lock()
		for range f.perCreate {
			f.events = append(f.events, time.Now().UTC().Format("2006-01-02T15:04:05.000000Z07:00"))
		}
		n := len(f.events)
		close(f.changed)
		f.changed = make(chan struct{})
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"loadbalancer": {"id": "lb-%d", "provisioning_status": "PENDING_CREATE"}}`, n)
	case "/v2/lbaas/events/stream":
		f.mu.Lock()
		f.subs++
		odd := f.subs%2 == 1
		pos := int64(len(f.events))
		f.mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "retry: 3000\nid: %d\n\n", pos)
		w.(http.Flusher).Flush()
		for {
			f.mu.Lock()
			pending := f.events[pos:]
			changed := f.changed
			f.mu.Unlock()
			for _, t := range pending {
				pos++
				if odd && pos == f.skip {
					continue
				}
				fmt.Fprintf(w, ": heartbeat\n\nid: %d\nevent: x.y\ndata: {\"position\":%d,\"time\":%q}\n\n", pos, pos, t)
			}
			w.(http.Flusher).Flush()
			select {
			case <-changed:
			case <-r.Context().Done():
				return
			}
		}
	default:
		http.NotFound(w, r)
	}
}

func TestMeasureSSE(t *testing.T) {
	plan := SSEPlan{Subscribers: 6, CreateRate: 100, Duration: 300 * time.Millisecond, Drain: 3 * time.Second}
	for _, tc := range []struct {
		name string
		skip int64
	}{{"in order", 0}, {"a gap", 5}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeStream(3)
			f.skip = tc.skip
			srv := httptest.NewServer(f)
			defer srv.Close()
			var res SSEResult
			measureSSE(context.Background(), srv.URL, "p", "subnet", plan, &res)
			if len(res.Errors) > 0 {
				t.Fatalf("errors: %v", res.Errors)
			}
			if res.Creates < 10 || res.Events != 3*res.Creates || res.EventsPerS <= 0 {
				t.Errorf("%d creates, %d events, %.0f/s", res.Creates, res.Events, res.EventsPerS)
			}
			wantGaps, wantDeliveries := 0, res.Events*plan.Subscribers
			if tc.skip > 0 {
				wantGaps, wantDeliveries = plan.Subscribers/2, wantDeliveries-plan.Subscribers/2
			}
			if res.Gaps != wantGaps || res.Duplicates != 0 || res.Incomplete != 0 || res.Deliveries.N != wantDeliveries {
				t.Errorf("gaps %d duplicates %d incomplete %d deliveries %d; want %d gaps, %d deliveries",
					res.Gaps, res.Duplicates, res.Incomplete, res.Deliveries.N, wantGaps, wantDeliveries)
			}
			if res.Deliveries.P50Ms <= 0 || res.Deliveries.P99Ms < res.Deliveries.P50Ms {
				t.Errorf("latencies %+v", res.Deliveries)
			}
			if probs := sseProblems(res); (len(probs) > 0) != (tc.skip > 0) {
				t.Errorf("problems %v", probs)
			}
		})
	}
}

func TestSubscribeRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"faultstring": "Policy does not allow this request to be performed."}`, http.StatusForbidden)
	}))
	defer srv.Close()
	var res SSEResult
	measureSSE(context.Background(), srv.URL, "p", "s", SSEPlan{Subscribers: 2, CreateRate: 10, Duration: time.Second}, &res)
	if len(res.Errors) == 0 || !strings.Contains(res.Errors[0], "status 403") || res.Creates != 0 {
		t.Errorf("refused stream: %+v", res)
	}
}

func TestChannelBaseline(t *testing.T) {
	s := channelBaseline(10, 2000, 200)
	if s.N != 2000 || s.P50Ms <= 0 || s.P99Ms < s.P50Ms {
		t.Errorf("baseline %+v", s)
	}
	if s := channelBaseline(10, 0, 100); s.N != 0 {
		t.Errorf("no rate: %+v", s)
	}
}

func TestMeasureReplaySQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	run := ReplayRun{Store: "SQLite", Writers: 2}
	measureReplay(ctx, store, filepath.Join(dir, "readmodel.db"), 3000, &run, slog.New(slog.DiscardHandler))
	if run.Error != "" || run.Events < 3000 || run.LoadBalancers < 100 || run.GenerateSec <= 0 || run.ScanSec <= 0 || run.ReplaySec <= 0 {
		t.Fatalf("run %+v", run)
	}
	if r := run.Rate(run.ReplaySec); r <= 0 {
		t.Errorf("rate %f", r)
	}
}

func TestEventTables(t *testing.T) {
	var b strings.Builder
	for _, tb := range []Table{
		replayTable([]ReplayRun{
			{Store: "SQLite", Events: 1_000_012, LoadBalancers: 44527, Writers: 2, GenerateSec: 33, ScanSec: 3.5, ReplaySec: 24.3},
			{Store: "PostgreSQL", Events: 1_000_012, LoadBalancers: 44527, Writers: 8, GenerateSec: 32, ScanSec: 3, ReplaySec: 31},
			{Store: "PostgreSQL", Skipped: "no PostgreSQL at postgres@127.0.0.1:5432/test"},
			{Store: "SQLite", Events: 3000, Error: "replay: boom\nmore"},
		}),
		replayTable(nil),
		sseTable(SSEResult{Subscribers: 100, Creates: 200, Events: 800, EventsPerS: 100,
			Deliveries: Summary{N: 80000, P50Ms: 5.5, P99Ms: 17, MaxMs: 28}, Channel: Summary{N: 80000, P50Ms: 0.08, P99Ms: 0.28, MaxMs: 2.3}}),
		sseTable(SSEResult{Skipped: "not run (-skip-sse)"}),
	} {
		if err := tb.Write(&b); err != nil {
			t.Fatal(err)
		}
	}
	out := b.String()
	for _, want := range []string{
		"1M < 30 s: met", "1M < 30 s: NOT met", "PostgreSQL (into the SQLite read model)", "ReplayPostgres, is not timed here", "not run: no PostgreSQL",
		"failed: replay: boom", "not run (-skip-replay, or -url)", "41153", "scan 285718 ev/s", "0.14× ev/s",
		"append → SSE delivery (200 creates)", "channel p99 0.28 ms", "61× p99", "not run (-skip-sse)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if probs := replayProblems([]ReplayRun{{Store: "SQLite", Error: "x"}, {Store: "PostgreSQL", Skipped: "y"}}); len(probs) != 1 {
		t.Errorf("problems %v", probs)
	}
}
