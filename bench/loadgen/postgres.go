package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	pgAppendPkg = "./adapters/eventstore/postgres/"
	// pgAppendPattern runs the store as shipped and its plain-INSERT baseline;
	// the package's other variants (four processes, tx per append, sequence)
	// are design comparisons, run by hand.
	pgAppendPattern = "^Benchmark(Append|PlainInsert)$"
	pgBaselineName  = "BenchmarkPlainInsert"
	// pgBatchedAim is issue 4's aim for appends in batches, events/s.
	pgBatchedAim = 20000
)

// PostgresResult is the PostgreSQL section: the event store's appends/s
// beside plain INSERTs of the same shape, both from the same go test run.
type PostgresResult struct {
	DSN     string     `json:"dsn,omitempty"`
	Appends EventStore `json:"appends"`
	Skipped string     `json:"skipped,omitempty"`
}

// RunPostgres runs the PostgreSQL event store's append benchmarks and their
// baseline against dsn, or records why it did not (server unreachable).
func RunPostgres(ctx context.Context, repo, dsn, benchtime string, raw *strings.Builder) PostgresResult {
	r := PostgresResult{DSN: redactDSN(dsn)}
	if err := reachable(ctx, dsn); err != nil {
		r.Skipped = "PostgreSQL unreachable: " + err.Error()
		return r
	}
	env := []string{"OCTAVIA_ES_TEST_POSTGRES=" + dsn}
	res, out, err := RunGoBench(ctx, repo, pgAppendPkg, pgAppendPattern, benchtime, env)
	raw.Write(out)
	if err != nil {
		r.Appends.Error = err.Error()
		return r
	}
	r.Appends = PairSameShape(res, "BenchmarkAppend", pgBaselineName)
	if len(r.Appends.Pairs) == 0 {
		r.Appends.Error = "no " + pgBaselineName + " of the same shape as BenchmarkAppend (skipped? see gobench-postgres.txt)"
	}
	return r
}

// PairSameShape splits go test results into the store's (prefix) and the
// baseline's (baseline), pairing each store benchmark with the baseline of
// the same sub-benchmark name ("/batch=10/writers=16"): both measured in one
// run. Results keeps only the store's, so the report reads like the SQLite one.
func PairSameShape(res []GoBench, prefix, baseline string) EventStore {
	var es EventStore
	byName := map[string]bool{}
	for _, g := range res {
		if strings.HasPrefix(g.Name, baseline) {
			es.Baseline = append(es.Baseline, g)
			byName[g.Name] = true
		}
	}
	for _, g := range res {
		if !strings.HasPrefix(g.Name, prefix) {
			continue
		}
		es.Results = append(es.Results, g)
		shape := strings.TrimPrefix(g.Name, prefix)
		if !byName[baseline+shape] {
			continue
		}
		_, perTx, _ := matchShape(g)
		es.Pairs = append(es.Pairs, Pair{Append: g.Name, Baseline: baseline + shape, RowsPerTx: perTx})
	}
	es.Matched = "same sub-benchmark (batch, writers), same payload (benchEvent), same run"
	return es
}

// reachable connects to dsn: the section is skipped, with a note, when
// PostgreSQL does not answer.
func reachable(ctx context.Context, dsn string) error {
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, dsn)
	if err != nil {
		return fmt.Errorf("%s: %w", redactDSN(dsn), err)
	}
	return conn.Close(cctx)
}

func postgresTable(p PostgresResult) Table {
	t := Table{
		Title: "PostgreSQL event store appends (go test -bench " + pgAppendPkg + ", " + p.DSN + "). Baseline: BenchmarkPlainInsert, " +
			"one INSERT … SELECT unnest per batch into a table of the same columns and indexes, same batch and writers, same run.",
		Header: []string{"benchmark", "ns/op", "events/s", "baseline (this run)", "ratio", "aim"},
	}
	switch {
	case p.Skipped != "":
		t.Add(pgAppendPkg, "-", "-", "not run: "+p.Skipped, "")
		return t
	case p.Appends.Error != "" && len(p.Appends.Results) == 0:
		t.Add(pgAppendPkg, "-", "-", "not run: "+firstLine(p.Appends.Error), "")
		return t
	}
	for _, g := range p.Appends.Results {
		rate, _ := g.PerSecond("events/s")
		baseCell, ratio := "not run", ""
		if base, _, ok := p.Appends.BaselineFor(g.Name); ok {
			baseRate, _ := base.PerSecond("events/s")
			baseCell = "plain INSERT: " + fmtRate(baseRate) + " events/s"
			ratio = fmtRatio(rate, baseRate)
		}
		t.Add(g.Name, fmt.Sprintf("%.0f", g.Metrics["ns/op"]), fmtRate(rate), baseCell, ratio, aimCell(g, rate))
	}
	if p.Appends.Error != "" {
		t.Add("baseline: "+firstLine(p.Appends.Error), "", "", "", "")
	}
	return t
}

// aimCell says whether a batched append met the aim; single-event appends
// have none (one commit per event bounds them).
func aimCell(g GoBench, rate float64) string {
	if _, perTx, _ := matchShape(g); perTx < 2 {
		return ""
	}
	if rate >= pgBatchedAim {
		return fmt.Sprintf("≥ %s events/s: met", fmtRate(pgBatchedAim))
	}
	return fmt.Sprintf("≥ %s events/s: NOT met", fmtRate(pgBatchedAim))
}
