package main

import (
	"fmt"
	"strconv"
)

func lagTable(l LagResult) Table {
	t := Table{
		Title: fmt.Sprintf("Projection lag: octavia-es serve (noop drivers), %.0f creates/s for %.0f s, "+
			"octavia_es_projection_lag_events (store head − the process's read model checkpoint, in events) scraped from each process's /metrics every 10 ms. "+
			"On the PostgreSQL store an `octavia-es api` process runs beside serve: with the SQLite read model it projects its own file; "+
			"with the PostgreSQL read model serve holds the projector lease and api follows its checkpoint by LISTEN/NOTIFY, so api's lag includes that hop. "+
			"Baselines, same load, same run: for the PostgreSQL read model the same process with the SQLite read model on the PostgreSQL store; "+
			"for the PostgreSQL store with the SQLite read model, serve on the SQLite store.",
			l.CreateRate, l.Seconds),
		Header: []string{"event store", "read model", "process", "creates", "creates/s", "samples", "lag p50", "lag p99", "lag max", "p99 vs baseline"},
	}
	if l.Skipped != "" {
		t.Add("-", "-", "-", "-", "-", "-", "-", "-", "-", "not run: "+l.Skipped)
		return t
	}
	for i, r := range l.Runs {
		proc := lagProcess(r)
		switch {
		case r.Skipped != "":
			t.Add(r.Store, r.ReadModel, proc, "-", "-", "-", "-", "-", "-", "not run: "+r.Skipped)
			continue
		case r.Error != "":
			t.Add(r.Store, r.ReadModel, proc, "-", "-", "-", "-", "-", "-", "error: "+firstLine(r.Error))
			continue
		}
		cmp := "-"
		if base, what := lagBaseline(l.Runs, i); base != nil {
			cmp = fmt.Sprintf("%.0f vs %.0f events (%s)", r.P99Events, base.P99Events, what)
		} else if what != "" {
			cmp = what
		}
		creates := strconv.Itoa(r.Creates)
		if r.Errors > 0 {
			creates += fmt.Sprintf(" (%d errors)", r.Errors)
		}
		t.Add(r.Store, r.ReadModel, proc, creates, fmtRate(r.CreatesPS), strconv.Itoa(r.Samples),
			fmt.Sprintf("%.0f", r.P50Events), fmt.Sprintf("%.0f", r.P99Events), fmt.Sprintf("%.0f", r.MaxEvents), cmp)
	}
	return t
}

// lagProcess says which process a row is and whether it projected.
func lagProcess(r LagRun) string {
	switch {
	case r.Skipped != "" || r.Error != "":
		return r.Process
	case r.ReadModel == rmSQLite:
		return r.Process + " (projects its own)"
	case r.Projects:
		return r.Process + " (holds the projector lease)"
	}
	return r.Process + " (follows by NOTIFY)"
}

// lagBaseline is the row runs[i] is compared with: for a PostgreSQL read
// model the same process and store with the SQLite read model; for another
// store the same process on the SQLite store. what names it, or says why
// there is none ("(baseline)" for the SQLite store's serve).
func lagBaseline(runs []LagRun, i int) (*LagRun, string) {
	r := runs[i]
	find := func(store, rm string) *LagRun {
		for j := range runs {
			b := &runs[j]
			if j != i && b.Store == store && b.ReadModel == rm && b.Process == r.Process && b.Skipped == "" && b.Error == "" {
				return b
			}
		}
		return nil
	}
	var b *LagRun
	var what string
	switch {
	case r.ReadModel != rmSQLite:
		b, what = find(r.Store, rmSQLite), "SQLite read model"
	case r.Store != "SQLite":
		b, what = find("SQLite", rmSQLite), "SQLite store"
	case r.Process == "serve":
		return nil, "(baseline)"
	}
	if b == nil {
		return nil, ""
	}
	return b, what
}

func lagProblems(l LagResult) []string {
	var out []string
	for _, r := range l.Runs {
		what := fmt.Sprintf("projection lag (%s store, %s read model, %s)", r.Store, r.ReadModel, r.Process)
		if r.Error != "" {
			out = append(out, what+": "+firstLine(r.Error))
		}
		if r.Errors > 0 && r.Process == "serve" { // the creates went to serve: count them once
			out = append(out, fmt.Sprintf("%s: %d of %d creates failed: %s", what, r.Errors, r.Creates, firstLine(r.FirstError)))
		}
	}
	return out
}
