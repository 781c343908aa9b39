package main

import "fmt"

func pgListProblems(r PGList) []string {
	const what = "list on the PostgreSQL event store"
	var out []string
	if r.Error != "" {
		out = append(out, what+": "+firstLine(r.Error))
	}
	for _, mc := range []*MassCreate{r.Fill, r.FillOther} {
		if mc != nil && mc.Post.Errors > 0 {
			out = append(out, fmt.Sprintf("%s: %d creates failed: %s", what, mc.Post.Errors, mc.Post.FirstErr))
		}
	}
	for _, run := range r.Runs {
		if run.Error != "" {
			out = append(out, fmt.Sprintf("%s, %s read model: %s", what, run.ReadModel, firstLine(run.Error)))
		}
		for _, l := range run.Lists {
			if l.Seq.Errors > 0 {
				out = append(out, fmt.Sprintf("%s, %s read model: %s: %d failed: %s", what, run.ReadModel, l.Variant, l.Seq.Errors, firstLine(l.Seq.FirstErr)))
			}
			if l.Conc != nil && l.Conc.Errors > 0 {
				out = append(out, fmt.Sprintf("%s, %s read model: %s c8: %d failed: %s", what, run.ReadModel, l.Variant, l.Conc.Errors, firstLine(l.Conc.FirstErr)))
			}
		}
	}
	return out
}

// sqliteList1000 is the API section's limit=1000 list at its largest size:
// the same query on the SQLite store, same run (other data: for orientation).
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
	fill := "-"
	if r.Fill != nil {
		fill = fmtRate(r.Fill.Post.ReqPerSec) + " creates/s"
	}
	build := "-"
	if len(r.Runs) > 0 && r.Runs[0].CatchUpSec > 0 {
		build = fmt.Sprintf("%.1f s", r.Runs[0].CatchUpSec)
	}
	lbs := "-lbs"
	if r.LBs > 0 {
		lbs = fmtCount(r.LBs)
	}
	t := Table{
		Title: fmt.Sprintf("GET /v2/lbaas/loadbalancers at %s load balancers (1 in 10 in a second project) on the PostgreSQL EVENT STORE: "+
			"the PostgreSQL READ MODEL against the SQLite read model (baseline), same store, same data, same run. "+
			"A serve with the PostgreSQL read model filled the store (%s); a serve with the SQLite read model then built its own from the events "+
			"(%s from its start to lag 0); each query is timed on one, then on the other. One client in sequence; c8 = 8 at once.",
			lbs, fill, build),
		Header: []string{"query", "items", "SQLite p50 ms", "SQLite p99 ms", "PostgreSQL p50 ms", "PostgreSQL p99 ms", "PG/SQLite p50", "PG/SQLite p99", "aim"},
	}
	switch {
	case r.Skipped != "":
		t.Add("-", "-", "-", "-", "-", "-", "-", "-", "not run: "+r.Skipped)
		return t
	case r.Error != "" || len(r.Runs) != 2:
		t.Add("-", "-", "-", "-", "-", "-", "-", "-", "error: "+firstLine(r.Error))
		return t
	}
	sq, pg := r.Runs[0], r.Runs[1]
	row := func(name, items string, a, b *Summary, aimCell string) {
		if a == nil || b == nil {
			t.Add(name, items, "-", "-", "-", "-", "-", "-", "error")
			return
		}
		t.Add(name, items, fmtMs(a.P50Ms), fmtMs(a.P99Ms), fmtMs(b.P50Ms), fmtMs(b.P99Ms),
			fmtRatio(b.P50Ms, a.P50Ms), fmtRatio(b.P99Ms, a.P99Ms), aimCell)
	}
	row("GET / (floor)", "-", sq.FloorSeq, pg.FloorSeq, "")
	for _, l := range pg.Lists {
		base := findList(sq.Lists, l.Variant)
		if base == nil {
			row(l.Variant, fmtCount(l.PageItems), nil, &l.Seq, "")
			continue
		}
		aimCell := ""
		if l.Variant == "limit=1000" {
			aimCell = aim("p99", l.Seq.P99Ms, aimMs)
		}
		row(l.Variant, fmtCount(l.PageItems), &base.Seq, &l.Seq, aimCell)
		if l.Conc != nil && base.Conc != nil {
			row(l.Variant+" c8", fmtCount(l.PageItems), base.Conc, l.Conc, "")
		}
	}
	if lbs, _, l := sqliteList1000(phases); l != nil {
		t.Add(fmt.Sprintf("limit=1000 on the SQLite event store (API section, %s LBs, other data)", fmtCount(lbs)), "1,000",
			fmtMs(l.P50Ms), fmtMs(l.P99Ms), "", "", "", "", "for orientation")
	}
	return t
}

// findList is the result of variant in ls, or nil.
func findList(ls []ListResult, variant string) *ListResult {
	for i := range ls {
		if ls[i].Variant == variant {
			return &ls[i]
		}
	}
	return nil
}
