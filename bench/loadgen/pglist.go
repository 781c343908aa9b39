package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// PGList is the list figure with the PostgreSQL event store: a serve on a
// throwaway schema filled to LBs load balancers, then GET ?limit=1000 timed.
// Its read model is SQLite, as every process's is today.
type PGList struct {
	LBs      int         `json:"lbs"`
	Fill     *MassCreate `json:"fill,omitempty"`
	FloorSeq *Summary    `json:"floor_seq,omitempty"`
	List     *Summary    `json:"list_limit_1000_seq,omitempty"`
	Skipped  string      `json:"skipped,omitempty"`
	Error    string      `json:"error,omitempty"`
}

// RunPGList fills a PostgreSQL-store server to lbs and times the list.
func RunPGList(ctx context.Context, o options, p Plan, lbs int, log *slog.Logger) PGList {
	var r PGList
	env, cleanup, skipped, err := postgresStoreEnv(ctx, o, "bench_list_", log)
	defer cleanup()
	if skipped != "" || err != nil {
		r.Skipped = skipped
		if err != nil {
			r.Error = err.Error()
		}
		return r
	}
	logFile, err := os.Create(filepath.Join(o.out, "server-list-postgresql.log"))
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer logFile.Close()
	env = append([]string{"OCTAVIA_ES_DRIVERS_COMPUTE=noop", "OCTAVIA_ES_DRIVERS_NETWORK=noop", "OCTAVIA_ES_DRIVERS_AMPHORA=noop"}, env...)
	srv, err := startServer(ctx, o.bin, o.config, logFile, 30*time.Second, env...)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer srv.Stop()
	subnet := o.subnet
	if subnet == "" {
		subnet = subnetFromConfig(o.config)
	}
	c := NewClient(srv.URL, o.project, subnet, p.Workers+1)
	defer c.Close()
	log.Info("list on the PostgreSQL event store: filling", "target", lbs)
	mc := CreateMany(ctx, c, p.Workers, lbs, 0, p.MassPost, p.MassActive, "bench-pg")
	r.Fill = &mc
	if r.LBs, err = c.CountStatus(ctx, "", 1000); err != nil {
		r.Error = "count load balancers: " + err.Error()
		return r
	}
	floor := Summarize(Run(ctx, 1, p.Floor, RootOp(c)))
	r.FloorSeq = &floor
	q := url.Values{"limit": {"1000"}}
	if _, err := ListOnce(ctx, c, q); err != nil {
		r.Error = "list limit=1000: " + err.Error()
		return r
	}
	l := Summarize(Run(ctx, 1, p.List, ListOp(c, q)))
	r.List = &l
	return r
}

func pgListProblems(r PGList) []string {
	var out []string
	if r.Error != "" {
		out = append(out, "list on the PostgreSQL event store: "+firstLine(r.Error))
	}
	if r.Fill != nil && r.Fill.Post.Errors > 0 {
		out = append(out, fmt.Sprintf("list on the PostgreSQL event store: %d creates failed: %s", r.Fill.Post.Errors, r.Fill.Post.FirstErr))
	}
	if r.List != nil && r.List.Errors > 0 {
		out = append(out, fmt.Sprintf("list on the PostgreSQL event store: %d lists failed: %s", r.List.Errors, r.List.FirstErr))
	}
	return out
}

// sqliteList1000 is the API section's limit=1000 list at its largest size:
// the same query on the SQLite store, same run.
func sqliteList1000(phases []Phase) (lbs int, floor, list *Summary) {
	for i := len(phases) - 1; i >= 0; i-- {
		for _, lr := range phases[i].Lists {
			if lr.Variant == "limit=1000" {
				f, l := phases[i].FloorSeq, lr.Seq
				return phases[i].LBs, &f, &l
			}
		}
	}
	return 0, nil, nil
}

func pgListTable(r PGList, phases []Phase) Table {
	t := Table{
		Title: "GET /v2/lbaas/loadbalancers?limit=1000, one client, with the PostgreSQL EVENT STORE. The READ MODEL IS SQLITE " +
			"(per process; PostgreSQL read models are not built yet), so this is the SQLite read model fed from PostgreSQL. " +
			"Baseline: the same list on the SQLite event store (the API section above), same run.",
		Header: []string{"event store", "LBs", "filled at", "list p50 ms", "list p99 ms", "× floor p50", "req/s"},
	}
	row := func(name string, lbs int, fill string, floor, l *Summary) {
		t.Add(name, fmt.Sprintf("%d", lbs), fill, fmtMs(l.P50Ms), fmtMs(l.P99Ms), fmtRatio(l.P50Ms, floor.P50Ms), fmtRate(l.ReqPerSec))
	}
	if lbs, floor, l := sqliteList1000(phases); l != nil {
		row("SQLite (baseline)", lbs, "(API section)", floor, l)
	} else {
		t.Add("SQLite (baseline)", "-", "-", "-", "-", "-", "not run (API section skipped)")
	}
	switch {
	case r.Skipped != "":
		t.Add("PostgreSQL", "-", "-", "-", "-", "-", "not run: "+r.Skipped)
	case r.Error != "" || r.List == nil || r.FloorSeq == nil:
		t.Add("PostgreSQL", "-", "-", "-", "-", "-", "error: "+firstLine(r.Error))
	default:
		fill := "-"
		if r.Fill != nil {
			fill = fmtRate(r.Fill.Post.ReqPerSec) + " creates/s"
		}
		row("PostgreSQL", r.LBs, fill, r.FloorSeq, r.List)
	}
	return t
}
