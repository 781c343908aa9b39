package main

import (
	"strings"
	"testing"
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
		{Store: "SQLite", Creates: 1000, CreatesPS: 100, Samples: 998, P50Events: 0, P99Events: 8, MaxEvents: 42},
		{Store: "PostgreSQL", Creates: 980, Errors: 2, CreatesPS: 98, Samples: 973, P50Events: 1, P99Events: 4, MaxEvents: 16},
	}}
	var b strings.Builder
	if err := lagTable(l).Write(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"(baseline)", "4 vs 8 events", "980 (2 errors)", "The read model is SQLite"} {
		if !strings.Contains(b.String(), want) {
			t.Fatalf("table lacks %q:\n%s", want, b.String())
		}
	}
	if p := lagProblems(l); len(p) != 1 || !strings.Contains(p[0], "2 of 980") {
		t.Fatalf("problems = %q, want the failed creates", p)
	}
	l.Runs[1] = LagRun{Store: "PostgreSQL", Skipped: "-skip-postgres"}
	b.Reset()
	_ = lagTable(l).Write(&b)
	if !strings.Contains(b.String(), "not run: -skip-postgres") {
		t.Fatalf("skipped run not said:\n%s", b.String())
	}
}
