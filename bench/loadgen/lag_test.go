package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseLag(t *testing.T) {
	tests := []struct {
		name, body string
		want       float64
		wantErr    bool
	}{
		{"gauge among others", "# HELP octavia_es_projection_lag_events x\n# TYPE octavia_es_projection_lag_events gauge\n" +
			"octavia_es_projection_lag_events_total 9\noctavia_es_projection_lag_events 17\ngo_goroutines 12\n", 17, false},
		{"zero", "octavia_es_projection_lag_events 0\n", 0, false},
		{"absent (failed read is left out)", "go_goroutines 12\n", 0, true},
		{"garbage value", "octavia_es_projection_lag_events NaNx\n", 0, true},
	}
	for _, tc := range tests {
		got, err := parseLag(strings.NewReader(tc.body))
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Fatalf("%s: parseLag = %v, %v; want %v (error %v)", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestPct(t *testing.T) {
	s := make([]float64, 100)
	for i := range s {
		s[i] = float64(i + 1)
	}
	for _, tc := range []struct{ p, want float64 }{{0.5, 50}, {0.99, 99}, {1, 100}, {0, 1}} {
		if got := pct(s, tc.p); got != tc.want {
			t.Fatalf("pct(%v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := pct([]float64{7}, 0.99); got != 7 {
		t.Fatalf("pct of one sample = %v, want 7", got)
	}
}

func TestLagTable(t *testing.T) {
	l := LagResult{CreateRate: 100, Seconds: 10, Runs: []LagRun{
		{Store: "SQLite", ReadModel: rmSQLite, Process: "serve", Projects: true, Creates: 1000, CreatesPS: 100, Samples: 998, P99Events: 8, MaxEvents: 42},
		{Store: "PostgreSQL", ReadModel: rmSQLite, Process: "serve", Projects: true, Creates: 1000, CreatesPS: 100, Samples: 990, P99Events: 6},
		{Store: "PostgreSQL", ReadModel: rmSQLite, Process: "api", Projects: true, Creates: 1000, CreatesPS: 100, Samples: 990, P99Events: 7},
		{Store: "PostgreSQL", ReadModel: rmPostgres, Process: "serve", Projects: true, Creates: 980, Errors: 2, CreatesPS: 98, Samples: 973, P50Events: 1, P99Events: 4, MaxEvents: 16},
		{Store: "PostgreSQL", ReadModel: rmPostgres, Process: "api", Creates: 980, Errors: 2, CreatesPS: 98, Samples: 970, P99Events: 11},
	}}
	var b strings.Builder
	if err := lagTable(l).Write(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"(baseline)", "6 vs 8 events (SQLite store)", "4 vs 6 events (SQLite read model)", "11 vs 7 events (SQLite read model)",
		"980 (2 errors)", "api (follows by NOTIFY)", "serve (holds the projector lease)", "api (projects its own)", "LISTEN/NOTIFY"} {
		if !strings.Contains(b.String(), want) {
			t.Fatalf("table lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "not built") {
		t.Fatalf("table says the PostgreSQL read model is not built:\n%s", b.String())
	}
	if p := lagProblems(l); len(p) != 1 || !strings.Contains(p[0], "2 of 980") {
		t.Fatalf("problems = %q, want the failed creates once (they went to serve)", p)
	}
	l.Runs = append(l.Runs[:3], LagRun{Store: "PostgreSQL", ReadModel: rmPostgres, Process: "serve", Skipped: "-skip-postgres"})
	b.Reset()
	_ = lagTable(l).Write(&b)
	if !strings.Contains(b.String(), "not run: -skip-postgres") {
		t.Fatalf("skipped run not said:\n%s", b.String())
	}
}

func TestLagBaseline(t *testing.T) {
	runs := []LagRun{
		{Store: "SQLite", ReadModel: rmSQLite, Process: "serve"},
		{Store: "PostgreSQL", ReadModel: rmSQLite, Process: "serve"},
		{Store: "PostgreSQL", ReadModel: rmSQLite, Process: "api"},
		{Store: "PostgreSQL", ReadModel: rmPostgres, Process: "serve"},
		{Store: "PostgreSQL", ReadModel: rmPostgres, Process: "api"},
		{Store: "PostgreSQL", ReadModel: rmPostgres, Process: "worker"},
	}
	tests := []struct {
		i        int
		want     int // index of the baseline, -1 none
		wantWhat string
	}{
		{0, -1, "(baseline)"},
		{1, 0, "SQLite store"},
		{2, -1, ""}, // no api on the SQLite store
		{3, 1, "SQLite read model"},
		{4, 2, "SQLite read model"},
		{5, -1, ""},
	}
	for _, tc := range tests {
		b, what := lagBaseline(runs, tc.i)
		got := -1
		for j := range runs {
			if b == &runs[j] {
				got = j
			}
		}
		if got != tc.want || what != tc.wantWhat {
			t.Fatalf("lagBaseline(%d) = %d %q, want %d %q", tc.i, got, what, tc.want, tc.wantWhat)
		}
	}
	runs[1].Error = "boom" // a failed run is no baseline
	if b, what := lagBaseline(runs, 3); b != nil || what != "" {
		t.Fatalf("baseline of a failed run = %+v %q, want none", b, what)
	}
}

// gaugeServer serves /metrics with the lag values in turn (the last one
// repeated), or a 404 when values is nil.
func gaugeServer(t *testing.T, values []float64) string {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if values == nil || r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		v := values[min(n, len(values)-1)]
		n++
		mu.Unlock()
		fmt.Fprintf(w, "go_goroutines 3\noctavia_es_projection_lag_events %g\n", v)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestMeasureLag(t *testing.T) {
	_, c := newFake(t, 0, 0)
	plan := LagPlan{CreateRate: 100, Duration: 200 * time.Millisecond, Every: 2 * time.Millisecond, Drain: 300 * time.Millisecond}
	var zero, busy, broken LagRun
	measureLag(context.Background(), c, plan, []lagTarget{
		{base: gaugeServer(t, []float64{0}), run: &zero},
		{base: gaugeServer(t, []float64{5, 3, 9, 0}), run: &busy},
		{base: gaugeServer(t, nil), run: &broken},
	})
	for name, r := range map[string]LagRun{"zero": zero, "busy": busy, "broken": broken} {
		if r.Creates < 15 || r.Creates > 21 || r.Errors != 0 || r.CreatesPS <= 0 {
			t.Fatalf("%s: creates = %d (%d errors, %.0f/s), want about 20 at 100/s for 200 ms, counted on every target", name, r.Creates, r.Errors, r.CreatesPS)
		}
	}
	if zero.Error != "" || zero.Samples < 20 || zero.MaxEvents != 0 {
		t.Fatalf("zero gauge: %+v, want many samples, all 0", zero)
	}
	if busy.Error != "" || busy.MaxEvents != 9 || busy.P50Events != 0 {
		t.Fatalf("busy gauge: %+v, want max 9 and p50 0 (it reads 0 from the fourth scrape on)", busy)
	}
	if broken.Error == "" || broken.Samples != 0 {
		t.Fatalf("a /metrics without the gauge: %+v, want an error", broken)
	}
}
