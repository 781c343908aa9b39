package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
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
		t.Fatalf("API section's list = %d %+v %+v, want the largest phase's limit=1000", lbs, floor, l)
	}
	measured := PGList{LBs: 10000, Fill: &MassCreate{Post: Summary{ReqPerSec: 766}}, Runs: []PGListRun{
		{ReadModel: rmSQLite, CatchUpSec: 7.25, FloorSeq: &Summary{P50Ms: 0.2, P99Ms: 0.5}, Lists: []ListResult{
			{Variant: "limit=1000", PageItems: 1000, Seq: Summary{P50Ms: 4, P99Ms: 10}, Conc: &Summary{P50Ms: 20, P99Ms: 40}},
			{Variant: "name=<one>", PageItems: 1, Seq: Summary{P50Ms: 0.5, P99Ms: 1}},
		}},
		{ReadModel: rmPostgres, FloorSeq: &Summary{P50Ms: 0.2, P99Ms: 0.5}, Lists: []ListResult{
			{Variant: "limit=1000", PageItems: 1000, Seq: Summary{P50Ms: 6, P99Ms: 25}, Conc: &Summary{P50Ms: 30, P99Ms: 80}},
			{Variant: "name=<one>", PageItems: 1, Seq: Summary{P50Ms: 1, P99Ms: 3}},
		}},
	}}
	tests := []struct {
		name   string
		r      PGList
		phases []Phase
		want   []string
		never  []string
	}{
		{"measured", measured, phases, []string{"PostgreSQL READ MODEL", "766 creates/s", "7.2 s from its start", "1.5×", "2.5×",
			"p99 < 20 ms: NOT met", "limit=1000 c8", "2.0×", "3.0×", "API section, 10,000 LBs", "10,000 load balancers"}, []string{"not built", "IS SQLITE"}},
		{"no API section", measured, nil, []string{"limit=1000 c8"}, []string{"API section"}},
		{"skipped", PGList{Skipped: "PostgreSQL unreachable: x"}, phases, []string{"not run: PostgreSQL unreachable"}, nil},
		{"failed", PGList{Error: "migrate: boom"}, phases, []string{"error: migrate: boom"}, nil},
	}
	for _, tc := range tests {
		var b strings.Builder
		if err := pgListTable(tc.r, tc.phases).Write(&b); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Fatalf("%s: table lacks %q:\n%s", tc.name, w, b.String())
			}
		}
		for _, w := range tc.never {
			if strings.Contains(b.String(), w) {
				t.Fatalf("%s: table says %q:\n%s", tc.name, w, b.String())
			}
		}
	}
	if _, _, l := sqliteList1000(nil); l != nil {
		t.Fatal("no API phases must give no list")
	}
}

func TestPGListProblems(t *testing.T) {
	tests := []struct {
		name string
		r    PGList
		want []string
	}{
		{"clean", PGList{Fill: &MassCreate{}, Runs: []PGListRun{{ReadModel: rmSQLite}, {ReadModel: rmPostgres}}}, nil},
		{"error", PGList{Error: "migrate: boom"}, []string{"migrate: boom"}},
		{"creates", PGList{FillOther: &MassCreate{Post: Summary{Errors: 3, FirstErr: "409"}}}, []string{"3 creates failed: 409"}},
		{"run and lists", PGList{Runs: []PGListRun{
			{ReadModel: rmSQLite, Error: "read model not caught up"},
			{ReadModel: rmPostgres, Lists: []ListResult{{Variant: "sort=name:asc", Seq: Summary{Errors: 2, FirstErr: "status 500"}, Conc: &Summary{Errors: 1, FirstErr: "timeout"}}}},
		}}, []string{"SQLite read model: read model not caught up", "PostgreSQL read model: sort=name:asc: 2 failed: status 500", "sort=name:asc c8: 1 failed: timeout"}},
	}
	for _, tc := range tests {
		got := pgListProblems(tc.r)
		if len(got) != len(tc.want) {
			t.Fatalf("%s: problems = %q, want %d", tc.name, got, len(tc.want))
		}
		for i, w := range tc.want {
			if !strings.Contains(got[i], w) {
				t.Fatalf("%s: problem %d = %q, want %q in it", tc.name, i, got[i], w)
			}
		}
	}
}

func TestPGListVariants(t *testing.T) {
	tests := []struct {
		lbs        int
		wantMarker string // "" = no last-page query
		wantPage   int
		wantName   string
	}{
		{2500, "lb-002000", 3, "x-500"},
		{2000, "lb-001000", 2, "x-500"}, // the page after the last full one is empty
		{700, "", 0, "x-350"},
	}
	for _, tc := range tests {
		f, c := newFake(t, 0, 0)
		for i := range tc.lbs {
			lb := &fakeLB{id: fmt.Sprintf("lb-%06d", i+1), name: fmt.Sprintf("x-%d", i), created: time.Now()}
			f.lbs = append(f.lbs, lb)
			f.byID[lb.id] = lb
		}
		vs, total, err := pgListVariants(context.Background(), c, "other")
		if err != nil || total != tc.lbs {
			t.Fatalf("%d LBs: total %d, err %v", tc.lbs, total, err)
		}
		got := map[string]pgListVariant{}
		for _, v := range vs {
			got[v.Name] = v
		}
		if v := got["limit=1000"]; !v.Aim || !v.Conc || vs[0].Name != "limit=1000" {
			t.Fatalf("%d LBs: first query %+v, want limit=1000 with the aim, also concurrent", tc.lbs, vs[0])
		}
		last, ok := got[fmt.Sprintf("limit=1000, last page (marker, page %d)", tc.wantPage)]
		if tc.wantMarker == "" {
			if len(vs) != 5 {
				t.Fatalf("%d LBs: %d queries, want 5 (one page: no last-page query)", tc.lbs, len(vs))
			}
		} else if !ok || last.Query.Get("marker") != tc.wantMarker {
			t.Fatalf("%d LBs: last page query %+v (found %v), want marker %s", tc.lbs, last, ok, tc.wantMarker)
		}
		if v := got["name=<one>"]; v.Query.Get("name") != tc.wantName {
			t.Fatalf("%d LBs: name query %v, want %s", tc.lbs, v.Query, tc.wantName)
		}
		if v := got["vip_address=<one> (document field)"]; v.Query.Get("vip_address") == "" {
			t.Fatalf("%d LBs: vip_address query %v, want an address", tc.lbs, v.Query)
		}
		if v := got["project_id=<1 in 10>, limit=1000"]; v.Query.Get("project_id") != "other" {
			t.Fatalf("%d LBs: project query %v", tc.lbs, v.Query)
		}
	}
	_, c := newFake(t, 0, 0)
	if _, _, err := pgListVariants(context.Background(), c, "other"); err == nil {
		t.Fatal("an empty store must be an error: nothing to time")
	}
}

func TestTimeListVariant(t *testing.T) {
	_, c := newFake(t, 0, 0)
	_, _ = c.CreateLB(context.Background(), "a")
	_, _ = c.CreateLB(context.Background(), "b")
	p := Plan{Workers: 2, List: Bound{N: 7, Budget: time.Second}, ListConc: Bound{N: 9, Budget: time.Second}}
	vs, _, err := pgListVariants(context.Background(), c, "other")
	if err != nil {
		t.Fatal(err)
	}
	lr := timeListVariant(context.Background(), c, p, vs[0])
	if lr.PageItems != 2 || lr.Seq.N != 7 || lr.Conc == nil || lr.Conc.N != 9 {
		t.Fatalf("limit=1000: %+v, want 2 items, 7 sequential and 9 concurrent requests", lr)
	}
	lr = timeListVariant(context.Background(), c, p, vs[1])
	if lr.Seq.N != pgListOther.N || lr.Conc != nil {
		t.Fatalf("%s: %+v, want the other queries' bound, sequential only", vs[1].Name, lr)
	}
	c.base = "http://127.0.0.1:1" // nothing listens: the check fails, nothing is timed
	lr = timeListVariant(context.Background(), c, p, vs[0])
	if lr.Seq.Errors != 1 || lr.Seq.N != 0 {
		t.Fatalf("unreachable: %+v, want one error and no timing", lr)
	}
}
