package main

import "testing"

func TestParseGoBench(t *testing.T) {
	out := []byte(`goos: linux
goarch: amd64
pkg: github.com/octavia-es/octavia-es/adapters/eventstore/sqlite
BenchmarkAppend-2              	   15572	     68989 ns/op	     14495 events/s	    1200 B/op	      30 allocs/op
BenchmarkAppend/batch=10-2     	    3000	    400000 ns/op	     25000 events/s
BenchmarkBroken-2  notanumber 12 ns/op
BenchmarkOdd-2 100 12 ns/op 7
PASS
ok  	github.com/octavia-es/octavia-es/adapters/eventstore/sqlite	3.1s
`)
	got := ParseGoBench(out)
	if len(got) != 2 {
		t.Fatalf("parsed %d results, want 2: %+v", len(got), got)
	}
	tests := []struct {
		i        int
		name     string
		iters    int64
		unit     string
		rate     float64
		reported bool
	}{
		{0, "BenchmarkAppend", 15572, "events/s", 14495, true},
		{1, "BenchmarkAppend/batch=10", 3000, "events/s", 25000, true},
		{1, "BenchmarkAppend/batch=10", 3000, "rows/s", 2500, false}, // falls back to 1e9/ns/op
	}
	for _, tc := range tests {
		g := got[tc.i]
		if g.Name != tc.name || g.Iterations != tc.iters {
			t.Fatalf("result %d = %s %d, want %s %d", tc.i, g.Name, g.Iterations, tc.name, tc.iters)
		}
		rate, reported := g.PerSecond(tc.unit)
		if rate != tc.rate || reported != tc.reported {
			t.Fatalf("%s PerSecond(%s) = %v %v, want %v %v", g.Name, tc.unit, rate, reported, tc.rate, tc.reported)
		}
	}
	if got[0].Metrics["allocs/op"] != 30 {
		t.Fatalf("allocs/op = %v, want 30", got[0].Metrics["allocs/op"])
	}
}

func TestMatchShape(t *testing.T) {
	tests := []struct {
		name           string
		metrics        map[string]float64
		payload, perTx int
	}{
		{"nothing reported", map[string]float64{"ns/op": 1000}, defaultPayloadBytes, 1},
		{"batch of 10 from events/s", map[string]float64{"ns/op": 503867, "events/s": 19847}, defaultPayloadBytes, 10},
		{"explicit", map[string]float64{"ns/op": 1000, "payload_bytes": 700, "events/op": 4}, 700, 4},
		{"B/event", map[string]float64{"ns/op": 1000, "B/event": 300}, 300, 1},
		// 10 events per op of 250 B: SetBytes(2500) at 100 µs/op prints 25 MB/s.
		{"SetBytes and events/s", map[string]float64{"ns/op": 100000, "events/s": 100000, "MB/s": 25}, 250, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, n, how := matchShape(GoBench{Name: "BenchmarkAppend", Metrics: tc.metrics})
			if p != tc.payload || n != tc.perTx || how == "" {
				t.Fatalf("got payload %d, %d/tx (%s), want %d, %d", p, n, how, tc.payload, tc.perTx)
			}
		})
	}
}

func TestEventStoreTable(t *testing.T) {
	es := EventStore{
		Results: ParseGoBench([]byte("BenchmarkAppend/batch=1-2 100 70000 ns/op 14000 events/s\n" +
			"BenchmarkAppend/batch=10-2 100 500000 ns/op 20000 events/s\n" +
			"BenchmarkAppend/batch=10/uuidv4-2 100 500000 ns/op 20000 events/s\n" +
			"BenchmarkReadAll-2 100 3500000 ns/op 140000 events/s\n")),
		Baseline: ParseGoBench([]byte("BenchmarkPlainInsert/rows=1/ids=v7-2 100 50000 ns/op 167 payload_bytes 20000 rows/s\n" +
			"BenchmarkPlainInsert/rows=10/ids=v7-2 100 400000 ns/op 167 payload_bytes 25000 rows/s\n" +
			"BenchmarkPlainInsert/rows=10/ids=v4-2 100 400000 ns/op 167 payload_bytes 40000 rows/s\n")),
		Pairs: []Pair{
			{Append: "BenchmarkAppend/batch=1", Baseline: "BenchmarkPlainInsert/rows=1/ids=v7", RowsPerTx: 1},
			{Append: "BenchmarkAppend/batch=10", Baseline: "BenchmarkPlainInsert/rows=10/ids=v7", RowsPerTx: 10},
			{Append: "BenchmarkAppend/batch=10/uuidv4", Baseline: "BenchmarkPlainInsert/rows=10/ids=v4", RowsPerTx: 10},
		},
		PayloadBytes: 167,
	}
	tab := eventStoreTable(es)
	want := map[string]string{ // benchmark -> ratio cell
		"BenchmarkAppend/batch=1":         "0.70×",
		"BenchmarkAppend/batch=10":        "0.80×",
		"BenchmarkAppend/batch=10/uuidv4": "0.50×",
		"BenchmarkReadAll":                "",
	}
	if len(tab.Rows) != len(want) {
		t.Fatalf("%d rows, want %d: %v", len(tab.Rows), len(want), tab.Rows)
	}
	for _, r := range tab.Rows {
		if r[4] != want[r[0]] {
			t.Errorf("%s ratio %q, want %q", r[0], r[4], want[r[0]])
		}
	}
}
