package main

import (
	"fmt"
	"io"
	"strings"
)

const aimMs = 20.0 // the aims: create→ACTIVE p50 and list 10k p99 at limit=1000

// WriteReport prints the header and every table of r.
func WriteReport(w io.Writer, r Result) error {
	fmt.Fprintf(w, "octavia-es benchmarks — %s, commit %s, %s, %d CPUs, %d workers for concurrent figures\n",
		r.Started, orDash(r.Commit), r.GoVersion, r.CPUs, r.Workers)
	fmt.Fprintln(w, "Ratios compare figures taken in this run; absolute figures vary ±15 % between runs on this shared machine.")
	fmt.Fprintln(w, "Aims are printed, not asserted. seq = one client in sequence; c8 = that many clients at once.")
	for _, t := range Tables(r) {
		if err := t.Write(w); err != nil {
			return err
		}
	}
	if len(r.Problems) > 0 {
		fmt.Fprintln(w, "\nProblems:")
		for _, p := range r.Problems {
			fmt.Fprintln(w, "  - "+p)
		}
	}
	_, err := fmt.Fprintf(w, "\nTook %.0f s.\n", r.DurationSec)
	return err
}

// Tables renders r as the report's sections.
func Tables(r Result) []Table {
	conc := fmt.Sprintf("c%d", r.Workers)
	api := Table{
		Title:  "API over HTTP on 127.0.0.1 (keep-alive). Baseline: GET / (version discovery, the server's floor) in the same phase.",
		Header: []string{"measure", "LBs", "n", "p50 ms", "p99 ms", "req/s", "baseline (this run)", "ratio", "aim"},
	}
	create := Table{
		Title:  "Filling the store through the API (POST /v2/lbaas/loadbalancers, " + conc + ").",
		Header: []string{"phase", "accepted", "POST p50 ms", "POST p99 ms", "creates/s", "all ACTIVE after", "ACTIVE LB/s", "baseline (this run)", "ratio"},
	}
	var largest int
	for _, ph := range r.Phases {
		largest = max(largest, ph.LBs)
	}
	var list100 *ListResult
	var firstCA, lastGetOne *Summary
	var firstCreate *MassCreate

	for _, ph := range r.Phases {
		lbs := fmtCount(ph.LBs)
		fs, fc := ph.FloorSeq, ph.FloorConc
		floorSeq := "GET / p50 " + fmtMs(fs.P50Ms) + " ms"
		floorConc := "GET / " + conc + " " + fmtRate(fc.ReqPerSec) + " req/s"
		api.Add("GET / seq (floor)", lbs, fmt.Sprint(fs.N), fmtMs(fs.P50Ms), fmtMs(fs.P99Ms), fmtRate(fs.ReqPerSec), "-", "", "")
		api.Add("GET / "+conc+" (floor)", lbs, fmt.Sprint(fc.N), fmtMs(fc.P50Ms), fmtMs(fc.P99Ms), fmtRate(fc.ReqPerSec), "-", "", "")
		if ca := ph.CreateActive; ca != nil {
			if firstCA == nil {
				firstCA = ca
			}
			api.Add("POST LB → ACTIVE seq", lbs, fmt.Sprint(ca.N), fmtMs(ca.P50Ms), fmtMs(ca.P99Ms), fmtRate(ca.ReqPerSec),
				floorSeq, fmtRatio(ca.P50Ms, fs.P50Ms)+" p50", aim("p50", ca.P50Ms, aimMs))
		}
		for i := range ph.Lists {
			l := &ph.Lists[i]
			aimCell := ""
			if l.Variant == "limit=1000" && ph.LBs == largest && len(r.Phases) > 1 {
				aimCell = aim("p99", l.Seq.P99Ms, aimMs)
				if largest < 10000 {
					aimCell += " (aim is at 10,000)"
				}
			}
			if l.Variant == "limit=100" && list100 == nil {
				list100 = l
			}
			name := fmt.Sprintf("list %s (%s per page) seq", l.Variant, fmtCount(l.PageItems))
			api.Add(name, lbs, fmt.Sprint(l.Seq.N), fmtMs(l.Seq.P50Ms), fmtMs(l.Seq.P99Ms), fmtRate(l.Seq.ReqPerSec),
				floorSeq, fmtRatio(l.Seq.P50Ms, fs.P50Ms)+" p50", aimCell)
			if c := l.Conc; c != nil {
				api.Add(fmt.Sprintf("list %s %s", l.Variant, conc), lbs, fmt.Sprint(c.N), fmtMs(c.P50Ms), fmtMs(c.P99Ms), fmtRate(c.ReqPerSec),
					floorConc, fmtRatio(c.ReqPerSec, fc.ReqPerSec)+" req/s", "")
			}
		}
		if g := ph.GetOneConc; g != nil {
			lastGetOne = g
			api.Add("GET one LB "+conc, lbs, fmt.Sprint(g.N), fmtMs(g.P50Ms), fmtMs(g.P99Ms), fmtRate(g.ReqPerSec),
				floorConc, fmtRatio(g.ReqPerSec, fc.ReqPerSec)+" req/s", "")
		}
		if mc := ph.Create; mc != nil {
			if firstCreate == nil {
				firstCreate = mc
			}
			after := "not reached"
			if mc.AllActive {
				after = fmt.Sprintf("%.1f s", mc.AllActiveSec)
			}
			create.Add(fmt.Sprintf("%s → %s LBs", fmtCount(mc.TotalLBs-mc.Accepted), fmtCount(mc.TotalLBs)),
				fmtCount(mc.Accepted), fmtMs(mc.Post.P50Ms), fmtMs(mc.Post.P99Ms), fmtRate(mc.Post.ReqPerSec),
				after, fmtRate(mc.ActivePerSec), floorConc, fmtRatio(mc.Post.ReqPerSec, fc.ReqPerSec)+" req/s")
		}
	}

	tables := []Table{api}
	if len(create.Rows) > 0 {
		tables = append(tables, create)
	}
	tables = append(tables, amphoraTable(r.Amphorae, conc))
	tables = append(tables, sseTable(r.SSE), replayTable(r.Replay))
	tables = append(tables, eventStoreTable(r.EventStore), postgresTable(r.Postgres), lagTable(r.Lag), pgListTable(r.PGList, r.Phases))
	tables = append(tables, referenceTable(r, conc, firstCA, list100, firstCreate, lastGetOne))
	return tables
}

func eventStoreTable(es EventStore) Table {
	t := Table{
		Title: "Event store (go test -bench, SQLite file, WAL, synchronous=NORMAL). Baseline: plain INSERTs of rows of the same " +
			"payload size into a table like the store's, same driver and pragmas, same transaction size, same run.",
		Header: []string{"benchmark", "ns/op", "events/s", "baseline (this run)", "ratio"},
	}
	if es.Error == "" && len(es.Results) == 0 {
		t.Add("adapters/eventstore/sqlite", "-", "-", "not run (-skip-gobench)", "")
		return t
	}
	if es.Error != "" && len(es.Results) == 0 {
		t.Add("adapters/eventstore/sqlite", "-", "-", "not run: "+firstLine(es.Error), "")
		return t
	}
	for _, g := range es.Results {
		rate, reported := g.PerSecond("events/s")
		name := g.Name
		if !reported {
			name += " (ops/s)"
		}
		baseCell, ratio := "- (reads: no INSERT baseline)", ""
		if strings.HasPrefix(g.Name, "BenchmarkAppend") {
			baseCell = "not run"
			if base, perTx, ok := es.BaselineFor(g.Name); ok {
				baseRate, _ := base.PerSecond("rows/s")
				baseCell = fmt.Sprintf("plain INSERT %d B × %d/tx, %s ids: %s rows/s", es.PayloadBytes, perTx, idKind(g.Name), fmtRate(baseRate))
				ratio = fmtRatio(rate, baseRate)
			}
		}
		t.Add(name, fmt.Sprintf("%.0f", g.Metrics["ns/op"]), fmtRate(rate), baseCell, ratio)
	}
	if es.Error != "" {
		t.Add("baseline: "+firstLine(es.Error), "", "", "", "")
	}
	return t
}

func referenceTable(r Result, conc string, ca *Summary, l100 *ListResult, mc *MassCreate, getOne *Summary) Table {
	t := Table{
		Title: "Reference: real Octavia 11, MEASURED ELSEWHERE (" + r.Reference.Source +
			"), not in this run: a ratio for orientation only.",
		Header: []string{"measure", "Octavia 11", "octavia-es (this run)", "ratio"},
	}
	ref := r.Reference
	if ca != nil {
		t.Add("POST LB → ACTIVE median (seq)", fmtMs(ref.CreateActiveP50Ms)+" ms", fmtMs(ca.P50Ms)+" ms",
			fmtRatio(ref.CreateActiveP50Ms, ca.P50Ms)+" faster")
	}
	if l100 != nil {
		ours := fmt.Sprintf("%s ms (limit=100 page)", fmtMs(l100.Seq.P50Ms))
		t.Add("GET list of 100 LBs p50 (seq)", fmtMs(ref.List100P50Ms)+" ms", ours, fmtRatio(ref.List100P50Ms, l100.Seq.P50Ms)+" faster")
		t.Add("GET list of 100 LBs req/s (seq)", fmtRate(ref.List100SeqRPS), fmtRate(l100.Seq.ReqPerSec), fmtRatio(l100.Seq.ReqPerSec, ref.List100SeqRPS))
		if l100.Conc != nil {
			t.Add("GET list of 100 LBs req/s (8 concurrent; here "+conc+")", fmtRate(ref.List100ConcRPS), fmtRate(l100.Conc.ReqPerSec), fmtRatio(l100.Conc.ReqPerSec, ref.List100ConcRPS))
		}
	}
	if mc != nil {
		t.Add("creates accepted/s (8 concurrent; here "+conc+")", fmtRate(ref.CreatesAcceptedPerS), fmtRate(mc.Post.ReqPerSec), fmtRatio(mc.Post.ReqPerSec, ref.CreatesAcceptedPerS))
		t.Add("LBs ACTIVE per second, all created", fmtRate(ref.AllActiveLBPerS), fmtRate(mc.ActivePerSec), fmtRatio(mc.ActivePerSec, ref.AllActiveLBPerS))
	}
	if getOne != nil {
		t.Add("GET one LB req/s (8 concurrent; here "+conc+")", fmtRate(ref.GetOneConcRPS), fmtRate(getOne.ReqPerSec), fmtRatio(getOne.ReqPerSec, ref.GetOneConcRPS))
	}
	return t
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// amphoraAimMs is the aim for a load balancer create → ACTIVE with
// the local drivers (an agent process and its HAProxy started).
const amphoraAimMs = 300.0

func amphoraTable(a AmphoraResult, conc string) Table {
	t := Table{
		Title: "Local amphorae (the default drivers: an amphora-agent process running HAProxy per load balancer), on a server of their own. " +
			"Requests: keep-alive GETs of a small page, " + conc + "; baselines: the member directly and the same HAProxy configuration started by hand, same run.",
		Header: []string{"measure", "n", "p50 ms", "p99 ms", "req/s", "baseline (this run)", "ratio", "aim"},
	}
	if a.Skipped != "" {
		t.Add("local amphorae", "-", "-", "-", "-", "not run: "+a.Skipped, "", "")
		return t
	}
	row := func(name string, s *Summary, base, ratio, aimCell string) {
		if s == nil {
			return
		}
		t.Add(name, fmt.Sprint(s.N), fmtMs(s.P50Ms), fmtMs(s.P99Ms), fmtRate(s.ReqPerSec), base, ratio, aimCell)
	}
	if ca := a.CreateActive; ca != nil {
		row("POST LB → ACTIVE seq (agent + HAProxy started)", ca, "-", "", aim("p50", ca.P50Ms, amphoraAimMs))
	}
	row("POST LB+listener+pool+3 members+monitor → ACTIVE seq", a.FullStack, "-", "", "")
	row("GET to the member directly "+conc, a.Direct, "-", "", "")
	if d := a.Direct; d != nil {
		base := "member directly " + fmtRate(d.ReqPerSec) + " req/s"
		if h := a.ByHand; h != nil {
			row("GET through HAProxy by hand, same config "+conc, h, base, fmtRatio(h.ReqPerSec, d.ReqPerSec)+" req/s", "")
		}
		if am := a.Amphora; am != nil {
			row("GET through the amphora's VIP "+conc, am, base, fmtRatio(am.ReqPerSec, d.ReqPerSec)+" req/s", "")
			if h := a.ByHand; h != nil {
				t.Add("  amphora vs HAProxy by hand", "", "", "", "", "by hand "+fmtRate(h.ReqPerSec)+" req/s", fmtRatio(am.ReqPerSec, h.ReqPerSec)+" req/s", "")
			}
		}
	}
	hb := fmt.Sprintf("heartbeat_timeout %.0f s", a.HeartbeatTimeoutSec)
	if f := a.FailoverTraffic; f != nil {
		row("kill -9 amphora → traffic served again", f, hb, fmtRatio(f.P50Ms, a.HeartbeatTimeoutSec*1000)+" p50", "")
	}
	if f := a.FailoverActive; f != nil {
		row("kill -9 amphora → ACTIVE on a new amphora", f, hb, fmtRatio(f.P50Ms, a.HeartbeatTimeoutSec*1000)+" p50", "")
	}
	return t
}
