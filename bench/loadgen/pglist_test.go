package main

import (
	"strings"
	"testing"
)

func TestPGListTable(t *testing.T) {
	phases := []Phase{
		{LBs: 0},
		{LBs: 1000, FloorSeq: Summary{P50Ms: 0.1}, Lists: []ListResult{{Variant: "limit=1000", Seq: Summary{P50Ms: 9, P99Ms: 9}}}},
		{LBs: 10000, FloorSeq: Summary{P50Ms: 0.2}, Lists: []ListResult{
			{Variant: "limit=100", Seq: Summary{P50Ms: 1}},
			{Variant: "limit=1000", Seq: Summary{P50Ms: 2.5, P99Ms: 10, ReqPerSec: 300}},
		}},
	}
	lbs, floor, l := sqliteList1000(phases)
	if lbs != 10000 || floor.P50Ms != 0.2 || l.P50Ms != 2.5 {
		t.Fatalf("baseline = %d %+v %+v, want the largest phase's limit=1000", lbs, floor, l)
	}
	tests := []struct {
		name string
		r    PGList
		want []string
	}{
		{"measured", PGList{LBs: 10000, Fill: &MassCreate{Post: Summary{ReqPerSec: 766}}, FloorSeq: &Summary{P50Ms: 0.2}, List: &Summary{P50Ms: 3.5, P99Ms: 20.2, ReqPerSec: 205}},
			[]string{"READ MODEL IS SQLITE", "SQLite (baseline)", "12×", "766 creates/s", "20.2", "18×"}},
		{"skipped", PGList{Skipped: "PostgreSQL unreachable: x"}, []string{"not run: PostgreSQL unreachable"}},
		{"failed", PGList{Error: "migrate: boom"}, []string{"error: migrate: boom"}},
	}
	for _, tc := range tests {
		var b strings.Builder
		if err := pgListTable(tc.r, phases).Write(&b); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Fatalf("%s: table lacks %q:\n%s", tc.name, w, b.String())
			}
		}
	}
	if p := pgListProblems(PGList{Error: "migrate: boom"}); len(p) != 1 {
		t.Fatalf("problems = %q, want the error", p)
	}
	if _, _, l := sqliteList1000(nil); l != nil {
		t.Fatal("no API phases must give no baseline")
	}
}
