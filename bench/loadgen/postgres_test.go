package main

import (
	"context"
	"strings"
	"testing"
)

func TestPairSameShape(t *testing.T) {
	res := ParseGoBench([]byte(`BenchmarkAppend/batch=1/writers=1-2   2746  431748 ns/op  2316 events/s
BenchmarkAppend/batch=10/writers=16-2  5416  186079 ns/op  53740 events/s
BenchmarkAppend/batch=10/writers=1-2   2048  512991 ns/op  19494 events/s
BenchmarkPlainInsert/batch=1/writers=1-2  4749  259982 ns/op  3846 events/s
BenchmarkPlainInsert/batch=10/writers=16-2  7818  137324 ns/op  72820 events/s
`))
	es := PairSameShape(res, "BenchmarkAppend", pgBaselineName)
	if len(es.Results) != 3 || len(es.Baseline) != 2 {
		t.Fatalf("results %d baseline %d, want 3 and 2", len(es.Results), len(es.Baseline))
	}
	tests := []struct {
		name, baseline string
		perTx          int
		paired         bool
	}{
		{"BenchmarkAppend/batch=1/writers=1", "BenchmarkPlainInsert/batch=1/writers=1", 1, true},
		{"BenchmarkAppend/batch=10/writers=16", "BenchmarkPlainInsert/batch=10/writers=16", 10, true},
		{"BenchmarkAppend/batch=10/writers=1", "", 0, false}, // its baseline did not run
	}
	for _, tc := range tests {
		base, perTx, ok := es.BaselineFor(tc.name)
		if ok != tc.paired || base.Name != tc.baseline || perTx != tc.perTx {
			t.Fatalf("%s: paired %v with %q (%d/tx), want %v %q (%d/tx)", tc.name, ok, base.Name, perTx, tc.paired, tc.baseline, tc.perTx)
		}
	}
	tab := postgresTable(PostgresResult{Appends: es})
	var b strings.Builder
	if err := tab.Write(&b); err != nil {
		t.Fatal(err)
	}
	// 53740 / 72820 events/s.
	if !strings.Contains(b.String(), "0.74×") || !strings.Contains(b.String(), "plain INSERT: 72820 events/s") ||
		!strings.Contains(b.String(), "≥ 20000 events/s: met") || !strings.Contains(b.String(), "≥ 20000 events/s: NOT met") {
		t.Fatalf("table lacks the batch=10/writers=16 ratio:\n%s", b.String())
	}
}

func TestRunPostgresUnreachable(t *testing.T) {
	var raw strings.Builder
	r := RunPostgres(context.Background(), ".", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1", "1x", &raw)
	if r.Skipped == "" || r.Appends.Error != "" || len(r.Appends.Results) != 0 {
		t.Fatalf("unreachable server: %+v, want skipped with no error", r)
	}
	var b strings.Builder
	if err := postgresTable(r).Write(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "not run: PostgreSQL unreachable") {
		t.Fatalf("table does not say why:\n%s", b.String())
	}
}
