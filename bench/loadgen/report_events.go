package main

import "fmt"

// replayAimSec is the aim: 1M events replayed in under 30 s.
const replayAimSec = 30.0

func sseTable(r SSEResult) Table {
	if r.Subscribers == 0 {
		r.Subscribers = DefaultSSEPlan().Subscribers
	}
	t := Table{
		Title: fmt.Sprintf("Event stream fan-out: %d SSE subscribers of GET /v2/lbaas/events/stream (all events) on a server of their own "+
			"(noop drivers) while load balancers are created at a steady rate; latency from the store's timestamp of each event to its "+
			"arrival at each subscriber. Baseline: as many events handed to %d goroutines over channels at the same rate, in the load generator.",
			r.Subscribers, r.Subscribers),
		Header: []string{"measure", "events", "deliveries", "events/s", "p50 ms", "p99 ms", "max ms", "baseline (this run)", "ratio"},
	}
	if r.Skipped != "" {
		t.Add("event stream", "-", "-", "-", "-", "-", "-", r.Skipped, "")
		return t
	}
	d, c := r.Deliveries, r.Channel
	t.Add(fmt.Sprintf("append → SSE delivery (%d creates)", r.Creates), fmtCount(r.Events), fmtCount(d.N), fmtRate(r.EventsPerS),
		fmtMs(d.P50Ms), fmtMs(d.P99Ms), fmtMs(d.MaxMs), "channel p99 "+fmtMsFine(c.P99Ms)+" ms", fmtRatio(d.P99Ms, c.P99Ms)+" p99")
	t.Add("channel hand-off (baseline)", fmtCount(r.Events), fmtCount(c.N), fmtRate(r.EventsPerS),
		fmtMsFine(c.P50Ms), fmtMsFine(c.P99Ms), fmtMsFine(c.MaxMs), "-", "")
	t.Add(fmt.Sprintf("order: %d gaps, %d duplicates, %d subscribers short of the tail", r.Gaps, r.Duplicates, r.Incomplete),
		"", "", "", "", "", "", "", "")
	return t
}

// fmtMsFine prints sub-millisecond values too.
func fmtMsFine(v float64) string {
	if v > 0 && v < 0.01 {
		return fmt.Sprintf("%.4f", v)
	}
	return fmtMs(v)
}

func replayTable(runs []ReplayRun) Table {
	t := Table{
		Title: "Replay: projections.Replay of every projection into a fresh SQLite read model, from a store filled first with generated " +
			"histories (about 22.5 events per load balancer, decided by the aggregate, 1,000 interleaved at a time in 3 appends each). " +
			"Baseline: a plain ReadAll scan of the same store, same page size, same run. (Into the PostgreSQL read model, projections.ReplayPostgres, is not timed here.)",
		Header: []string{"store", "events", "LBs", "generated at", "scan", "replay", "replay events/s", "baseline (this run)", "ratio", "aim"},
	}
	if len(runs) == 0 {
		t.Add("-", "-", "-", "-", "-", "-", "-", "not run (-skip-replay, or -url)", "", "")
		return t
	}
	for _, r := range runs {
		name := r.Store
		if r.Store == "PostgreSQL" {
			name = "PostgreSQL (into the SQLite read model)"
		}
		switch {
		case r.Skipped != "":
			t.Add(name, "-", "-", "-", "-", "-", "-", "not run: "+r.Skipped, "", "")
			continue
		case r.Error != "":
			t.Add(name, fmtCount(int(r.Events)), "-", "-", "-", "-", "-", "failed: "+firstLine(r.Error), "", "")
			continue
		}
		aimCell := fmt.Sprintf("%s events < %.0f s", fmtCount(int(r.Events)), replayAimSec)
		if r.Events >= 1_000_000 {
			if r.ReplaySec < replayAimSec {
				aimCell = "1M < 30 s: met"
			} else {
				aimCell = "1M < 30 s: NOT met"
			}
		} else {
			aimCell += " (aim is at 1M)"
		}
		t.Add(name, fmtCount(int(r.Events)), fmtCount(r.LoadBalancers),
			fmt.Sprintf("%s ev/s (%d writers)", fmtRate(r.Rate(r.GenerateSec)), r.Writers),
			fmt.Sprintf("%.1f s", r.ScanSec), fmt.Sprintf("%.1f s", r.ReplaySec), fmtRate(r.Rate(r.ReplaySec)),
			"scan "+fmtRate(r.Rate(r.ScanSec))+" ev/s", fmtRatio(r.Rate(r.ReplaySec), r.Rate(r.ScanSec))+" ev/s", aimCell)
	}
	return t
}

func replayProblems(runs []ReplayRun) []string {
	var out []string
	for _, r := range runs {
		if r.Error != "" {
			out = append(out, "replay on "+r.Store+": "+r.Error)
		}
	}
	return out
}
