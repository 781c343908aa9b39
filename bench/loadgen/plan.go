package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"
)

// Plan bounds every loop of an API run in count and time.
type Plan struct {
	Sizes            []int // store sizes to measure lists at, ascending
	Workers          int   // concurrent clients for creates and concurrent figures
	CreateActive     Bound // create→ACTIVE on the empty store
	CreateActiveFull Bound // create→ACTIVE again at the largest size
	Floor            Bound // GET / per phase, sequential and concurrent
	List             Bound // each list variant, sequential
	ListConc         Bound // limit=1000 and limit=100 lists, concurrent
	GetOne           Bound // GET one load balancer, concurrent
	MassPost         time.Duration
	MassActive       time.Duration
}

// DefaultPlan is `make bench`: about two minutes on the 2-core machine.
// Count caps are set so most loops end on their time budget, which keeps
// each figure's sample large enough for a p99 (500 list requests, not 50).
func DefaultPlan(lbs, workers int) Plan {
	sizes := []int{1000, lbs}
	if lbs <= 1000 {
		sizes = []int{lbs}
	}
	return Plan{
		Sizes:            sizes,
		Workers:          workers,
		CreateActive:     Bound{N: 200, Budget: 30 * time.Second},
		CreateActiveFull: Bound{N: 100, Budget: 15 * time.Second},
		Floor:            Bound{N: 20000, Budget: 2 * time.Second},
		List:             Bound{N: 500, Budget: 8 * time.Second},
		ListConc:         Bound{N: 800, Budget: 5 * time.Second},
		GetOne:           Bound{N: 20000, Budget: 2 * time.Second},
		MassPost:         120 * time.Second,
		MassActive:       45 * time.Second,
	}
}

// RunAPI runs the plan's phases against c and returns them with the
// problems seen (errors are counted, never fatal: the table shows them).
func RunAPI(ctx context.Context, c *Client, p Plan, log *slog.Logger) ([]Phase, []string) {
	var (
		phases   []Phase
		problems []string
	)
	note := func(what string, s Summary) {
		if s.Errors > 0 {
			problems = append(problems, fmt.Sprintf("%s: %d errors, first: %s", what, s.Errors, s.FirstErr))
		}
	}
	floor := func(ph *Phase) {
		ph.FloorSeq = Summarize(Run(ctx, 1, p.Floor, RootOp(c)))
		ph.FloorConc = Summarize(Run(ctx, p.Workers, p.Floor, RootOp(c)))
		note("GET /", ph.FloorSeq)
		note("GET / concurrent", ph.FloorConc)
	}

	log.Info("phase: empty store")
	empty := Phase{Target: 0}
	floor(&empty)
	ca := Summarize(Run(ctx, 1, p.CreateActive, CreateToActive(c, "bench-seq")))
	note("create→ACTIVE", ca)
	empty.CreateActive = &ca
	phases = append(phases, empty)

	have, err := c.CountStatus(ctx, "", 1000)
	if err != nil {
		return phases, append(problems, "count load balancers: "+err.Error())
	}
	for k, size := range p.Sizes {
		if ctx.Err() != nil {
			break
		}
		log.Info("phase: filling the store", "have", have, "target", size)
		ph := Phase{Target: size}
		if size > have {
			mc := CreateMany(ctx, c, p.Workers, size-have, have, p.MassPost, p.MassActive, fmt.Sprintf("bench-%d", size))
			note(fmt.Sprintf("create %d concurrently", size-have), mc.Post)
			if mc.ActiveWaitNote != "" {
				problems = append(problems, fmt.Sprintf("waiting for %d ACTIVE: %s", mc.TotalLBs, mc.ActiveWaitNote))
			}
			ph.Create = &mc
		}
		if have, err = c.CountStatus(ctx, "", 1000); err != nil {
			problems = append(problems, "count load balancers: "+err.Error())
			phases = append(phases, ph)
			break
		}
		ph.LBs = have
		log.Info("phase: measuring", "lbs", have)
		floor(&ph)
		for _, v := range ListVariants() {
			items, err := ListOnce(ctx, c, v.Query)
			if err != nil {
				problems = append(problems, fmt.Sprintf("list %s at %d: %v", v.Name, have, err))
				continue
			}
			lr := ListResult{Variant: v.Name, PageItems: items, Seq: Summarize(Run(ctx, 1, p.List, ListOp(c, v.Query)))}
			note("list "+v.Name, lr.Seq)
			if v.Name != "default page" { // same query as limit=1000 with the default configuration
				conc := Summarize(Run(ctx, p.Workers, p.ListConc, ListOp(c, v.Query)))
				note("list "+v.Name+" concurrent", conc)
				lr.Conc = &conc
			}
			ph.Lists = append(ph.Lists, lr)
		}
		if k == len(p.Sizes)-1 {
			full := Summarize(Run(ctx, 1, p.CreateActiveFull, CreateToActive(c, "bench-full")))
			note("create→ACTIVE, full store", full)
			ph.CreateActive = &full
			if b, err := c.ListRaw(ctx, url.Values{"limit": {"1"}}); err == nil {
				if _, id, err := ListCount(b, ""); err == nil && id != "" {
					g := Summarize(Run(ctx, p.Workers, p.GetOne, Timed(func(ctx context.Context, _ int) error {
						_, err := c.LBStatus(ctx, id)
						return err
					})))
					note("GET one", g)
					ph.GetOneConc = &g
				}
			}
		}
		phases = append(phases, ph)
	}
	return phases, problems
}
