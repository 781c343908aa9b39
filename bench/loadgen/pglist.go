package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// PGList is the list figures on the PostgreSQL event store with each read
// model: a serve with the PostgreSQL read model fills a throwaway schema to
// LBs load balancers (one in ten in a second project), then a serve with the
// SQLite read model starts on the same store and builds its read model from
// it; every list query is then timed on one and on the other in turn.
type PGList struct {
	LBs       int         `json:"lbs"`
	Fill      *MassCreate `json:"fill,omitempty"`
	FillOther *MassCreate `json:"fill_other_project,omitempty"`
	// Runs: the SQLite read model (the baseline), then the PostgreSQL one.
	Runs    []PGListRun `json:"runs,omitempty"`
	Skipped string      `json:"skipped,omitempty"`
	Error   string      `json:"error,omitempty"`
}

// PGListRun is one read model's figures.
type PGListRun struct {
	ReadModel string `json:"read_model"`
	// CatchUpSec: from the server's start until its lag gauge read 0 (the
	// SQLite read model built from the store's events before any timing).
	CatchUpSec float64      `json:"catch_up_s,omitempty"`
	FloorSeq   *Summary     `json:"floor_seq,omitempty"`
	Lists      []ListResult `json:"lists,omitempty"`
	Error      string       `json:"error,omitempty"`
}

// pgListVariant is one list query of the section. Aim: the p99 aim
// applies; Conc: timed with the plan's workers at once too.
type pgListVariant struct {
	Name  string
	Query url.Values
	Aim   bool
	Conc  bool
}

// pgListOther is the bound of every query but the first (limit=1000 takes
// the API section's bounds): six queries on two servers must stay short.
var pgListOther = Bound{N: 200, Budget: 4 * time.Second}

// catchUpWithin bounds the SQLite read model's build from the store.
const catchUpWithin = 3 * time.Minute

// RunPGList fills a PostgreSQL-store server to lbs and times the lists on
// both read models.
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
	env = append([]string{"OCTAVIA_ES_DRIVERS_COMPUTE=noop", "OCTAVIA_ES_DRIVERS_NETWORK=noop", "OCTAVIA_ES_DRIVERS_AMPHORA=noop"}, env...)
	subnet := o.subnet
	if subnet == "" {
		subnet = subnetFromConfig(o.config)
	}

	pgSrv, err := startListServer(ctx, o, env, rmPostgres)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer pgSrv.Stop()
	pgc := NewClient(pgSrv.URL, o.project, subnet, p.Workers+1)
	defer pgc.Close()
	other := o.project + "-other"
	log.Info("list on the PostgreSQL read model: filling", "target", lbs)
	n := lbs - lbs/10
	mc := CreateMany(ctx, pgc, p.Workers, n, 0, p.MassPost, p.MassActive, "bench-pg")
	r.Fill = &mc
	if lbs/10 > 0 {
		oc := NewClient(pgSrv.URL, other, subnet, p.Workers+1)
		mo := CreateMany(ctx, oc, p.Workers, lbs/10, mc.TotalLBs, p.MassPost, p.MassActive, "bench-pg-other")
		oc.Close()
		r.FillOther = &mo
	}
	variants, total, err := pgListVariants(ctx, pgc, other)
	r.LBs = total
	if err != nil {
		r.Error = "list queries: " + err.Error()
		return r
	}

	log.Info("list on the PostgreSQL store: a serve with the SQLite read model builds it", "lbs", total)
	sqStart := time.Now()
	sqSrv, err := startListServer(ctx, o, env, rmSQLite)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer sqSrv.Stop()
	sq := PGListRun{ReadModel: rmSQLite}
	if sq.CatchUpSec, err = waitCaughtUp(ctx, sqSrv.URL, sqStart, catchUpWithin); err != nil {
		sq.Error = err.Error()
	}
	sqc := NewClient(sqSrv.URL, o.project, subnet, p.Workers+1)
	defer sqc.Close()
	pg := PGListRun{ReadModel: rmPostgres} // it filled the store itself: nothing to build
	if _, err := waitCaughtUp(ctx, pgSrv.URL, time.Now(), catchUpWithin); err != nil {
		pg.Error = err.Error()
	}

	// Each query on one read model, then at once on the other: the machine's
	// load of the moment weighs on both alike.
	log.Info("list on the PostgreSQL store: timing both read models", "lbs", total)
	runs := []*PGListRun{&sq, &pg}
	clients := []*Client{sqc, pgc}
	for k, c := range clients {
		f := Summarize(Run(ctx, 1, p.Floor, RootOp(c)))
		runs[k].FloorSeq = &f
	}
	for _, v := range variants {
		for k, c := range clients {
			if runs[k].Error != "" {
				continue
			}
			runs[k].Lists = append(runs[k].Lists, timeListVariant(ctx, c, p, v))
		}
	}
	r.Runs = []PGListRun{sq, pg}
	return r
}

// startListServer starts a serve on the store env names with readModel,
// its log in the output directory.
func startListServer(ctx context.Context, o options, env []string, readModel string) (*Server, error) {
	logFile, err := os.Create(filepath.Join(o.out, "server-list-postgresql-rm-"+readModelFile(readModel)+".log"))
	if err != nil {
		return nil, err
	}
	// The child holds its own descriptor: ours can go.
	defer logFile.Close()
	srv, err := startServer(ctx, o.bin, o.config, logFile, 30*time.Second, append(env, readModelEnv(readModel))...)
	if err != nil {
		return nil, fmt.Errorf("serve with the %s read model: %w", readModel, err)
	}
	return srv, nil
}

func readModelFile(readModel string) string {
	if readModel == rmPostgres {
		return "postgresql"
	}
	return "sqlite"
}

// waitCaughtUp polls base's lag gauge until it reads 0 and returns the
// seconds since since.
func waitCaughtUp(ctx context.Context, base string, since time.Time, within time.Duration) (float64, error) {
	deadline := time.Now().Add(within)
	var last error
	for {
		v, err := scrapeLag(ctx, base)
		if err == nil && v == 0 {
			return time.Since(since).Seconds(), nil
		}
		if err != nil {
			last = err
		} else {
			last = fmt.Errorf("%.0f events behind", v)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return 0, fmt.Errorf("read model not caught up after %s: %w", within, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pgListVariants pages through the whole list once (counting it, finding
// the marker of its last page) and picks a name and a VIP address to filter
// on, from the middle of the first page.
func pgListVariants(ctx context.Context, c *Client, otherProject string) ([]pgListVariant, int, error) {
	const page = 1000
	var lasts []string
	total, marker := 0, ""
	var first []byte
	for {
		q := url.Values{"limit": {strconv.Itoa(page)}}
		if marker != "" {
			q.Set("marker", marker)
		}
		b, err := c.ListRaw(ctx, q)
		if err != nil {
			return nil, total, err
		}
		n, last, err := ListCount(b, "")
		if err != nil {
			return nil, total, err
		}
		if first == nil {
			first = b
		}
		if n == 0 {
			break
		}
		total += n
		lasts = append(lasts, last)
		if n < page {
			break
		}
		marker = last
	}
	if total == 0 {
		return nil, 0, errors.New("no load balancers")
	}
	var body struct {
		LoadBalancers []struct {
			Name       string `json:"name"`
			VipAddress string `json:"vip_address"`
		} `json:"loadbalancers"`
	}
	if err := json.Unmarshal(first, &body); err != nil {
		return nil, total, fmt.Errorf("decode the first page: %w", err)
	}
	mid := body.LoadBalancers[len(body.LoadBalancers)/2]
	vs := []pgListVariant{{Name: "limit=1000", Query: url.Values{"limit": {"1000"}}, Aim: true, Conc: true}}
	if len(lasts) >= 2 {
		vs = append(vs, pgListVariant{Name: fmt.Sprintf("limit=1000, last page (marker, page %d)", len(lasts)),
			Query: url.Values{"limit": {"1000"}, "marker": {lasts[len(lasts)-2]}}})
	}
	vs = append(vs,
		pgListVariant{Name: "project_id=<1 in 10>, limit=1000", Query: url.Values{"limit": {"1000"}, "project_id": {otherProject}}},
		pgListVariant{Name: "sort=name:asc, limit=1000", Query: url.Values{"limit": {"1000"}, "sort": {"name:asc"}}},
		pgListVariant{Name: "name=<one>", Query: url.Values{"name": {mid.Name}}},
		pgListVariant{Name: "vip_address=<one> (document field)", Query: url.Values{"vip_address": {mid.VipAddress}}},
	)
	return vs, total, nil
}

// timeListVariant checks the query answers a non-empty page, then times it
// from one client (and from p.Workers at once when v asks).
func timeListVariant(ctx context.Context, c *Client, p Plan, v pgListVariant) ListResult {
	lr := ListResult{Variant: v.Name}
	items, err := ListOnce(ctx, c, v.Query)
	if err != nil {
		lr.Seq = Summary{Errors: 1, FirstErr: err.Error()}
		return lr
	}
	lr.PageItems = items
	b := pgListOther
	if v.Aim {
		b = p.List
	}
	lr.Seq = Summarize(Run(ctx, 1, b, ListOp(c, v.Query)))
	if v.Conc {
		conc := Summarize(Run(ctx, p.Workers, p.ListConc, ListOp(c, v.Query)))
		lr.Conc = &conc
	}
	return lr
}
