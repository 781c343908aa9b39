package projections

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
)

const lbCount = 30

// fixture: 30 load balancers in two projects with repeated names, tied and
// out-of-id-order creation times, tags, admin state and statuses varied.
func fixture(t *testing.T) (*ReadModel, []LoadBalancerView) {
	t.Helper()
	rm := openTest(t)
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	names := []string{"alpha", "beta", "gamma"}
	var states []loadbalancer.State
	var views []LoadBalancerView
	for i := 0; i < lbCount; i++ {
		project := "p1"
		if i%3 == 0 {
			project = "p2"
		}
		var opts []lbOpt
		if i%4 < 3 {
			opts = append(opts, named(names[i%4]))
		}
		switch i % 5 {
		case 0:
			opts = append(opts, tagged("red", "blue"))
		case 1:
			opts = append(opts, tagged("red"))
		case 2:
			opts = append(opts, tagged("blue"))
		}
		if i%6 == 0 {
			opts = append(opts, adminDown())
		}
		switch i % 7 {
		case 0:
			opts = append(opts, provisioning(loadbalancer.PendingCreate))
		case 1:
			opts = append(opts, provisioning(loadbalancer.ErrorStatus))
		}
		s := lbState(i, project, base.Add(time.Duration((i*7)%10)*time.Second), opts...)
		states = append(states, s)
		views = append(views, RenderLoadBalancer(s))
	}
	writeStates(t, rm, 42, states...)
	return rm, views
}

// reference applies a predicate and Octavia's order to the views in Go.
func reference(views []LoadBalancerView, keep func(LoadBalancerView) bool, sort []SortKey) []string {
	var out []LoadBalancerView
	for _, v := range views {
		if keep == nil || keep(v) {
			out = append(out, v)
		}
	}
	keys := append(slices.Clone(sort), SortKey{Key: "created_at"}, SortKey{Key: "id"})
	value := func(v LoadBalancerView, k string) string {
		switch k {
		case "name":
			return *v.Name
		case "created_at":
			return v.CreatedAt
		case "id":
			return v.ID
		case "vip_address":
			return *v.VipAddress
		case "admin_state_up":
			if v.AdminStateUp {
				return "1"
			}
			return "0"
		case "provisioning_status":
			return v.ProvisioningStatus
		}
		panic("no reference value for " + k)
	}
	slices.SortStableFunc(out, func(a, b LoadBalancerView) int {
		for _, k := range keys {
			c := cmp.Compare(value(a, k.Key), value(b, k.Key))
			if k.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	ids := []string{}
	for _, v := range out {
		ids = append(ids, v.ID)
	}
	return ids
}

func idsOf(p Page[LoadBalancerView]) []string {
	ids := []string{}
	for _, v := range p.Items {
		ids = append(ids, v.ID)
	}
	return ids
}

func hasTag(v LoadBalancerView, tag string) bool { return slices.Contains(v.Tags, tag) }

func TestListFilters(t *testing.T) {
	rm, views := fixture(t)
	ctx := context.Background()
	cases := []struct {
		name string
		opts ListOptions
		keep func(LoadBalancerView) bool
	}{
		{"all", ListOptions{}, nil},
		{"project", ListOptions{ProjectID: "p2"}, func(v LoadBalancerView) bool { return v.ProjectID == "p2" }},
		{"project as filter", ListOptions{Filters: map[string][]string{"project_id": {"p1"}}},
			func(v LoadBalancerView) bool { return v.ProjectID == "p1" }},
		{"name", ListOptions{Filters: map[string][]string{"name": {"beta"}}},
			func(v LoadBalancerView) bool { return *v.Name == "beta" }},
		{"two names are OR", ListOptions{Filters: map[string][]string{"name": {"beta", "gamma"}}},
			func(v LoadBalancerView) bool { return *v.Name == "beta" || *v.Name == "gamma" }},
		{"admin_state_up false", ListOptions{Filters: map[string][]string{"admin_state_up": {"false"}}},
			func(v LoadBalancerView) bool { return !v.AdminStateUp }},
		{"admin_state_up True", ListOptions{Filters: map[string][]string{"admin_state_up": {"True"}}},
			func(v LoadBalancerView) bool { return v.AdminStateUp }},
		{"status and project", ListOptions{ProjectID: "p1", Filters: map[string][]string{"provisioning_status": {"ERROR"}}},
			func(v LoadBalancerView) bool { return v.ProjectID == "p1" && v.ProvisioningStatus == "ERROR" }},
		{"attribute of the document", ListOptions{Filters: map[string][]string{"vip_address": {"10.0.0.8"}}},
			func(v LoadBalancerView) bool { return *v.VipAddress == "10.0.0.8" }},
		{"auxiliary parameters ignored", ListOptions{Filters: map[string][]string{"fields": {"id"}, "limit": {"3"}}}, nil},
		{"tags all", ListOptions{Tags: []string{"red", "blue"}},
			func(v LoadBalancerView) bool { return hasTag(v, "red") && hasTag(v, "blue") }},
		{"tags all, comma separated", ListOptions{Filters: map[string][]string{"tags": {"red,blue"}}},
			func(v LoadBalancerView) bool { return hasTag(v, "red") && hasTag(v, "blue") }},
		{"tags any", ListOptions{TagsAny: []string{"blue", "green"}},
			func(v LoadBalancerView) bool { return hasTag(v, "blue") }},
		{"not tags", ListOptions{NotTags: []string{"red", "blue"}},
			func(v LoadBalancerView) bool { return !(hasTag(v, "red") && hasTag(v, "blue")) }},
		{"not tags any", ListOptions{NotTagsAny: []string{"red", "blue"}},
			func(v LoadBalancerView) bool { return !hasTag(v, "red") && !hasTag(v, "blue") }},
		{"tags and filter", ListOptions{ProjectID: "p1", Tags: []string{"red"}, Filters: map[string][]string{"name": {"alpha"}}},
			func(v LoadBalancerView) bool { return v.ProjectID == "p1" && hasTag(v, "red") && *v.Name == "alpha" }},
		{"created_at with a space", ListOptions{Filters: map[string][]string{"created_at": {"2026-01-02 03:04:12"}}},
			func(v LoadBalancerView) bool { return v.CreatedAt == "2026-01-02T03:04:12" }},
		{"unset name is empty", ListOptions{Filters: map[string][]string{"name": {""}}},
			func(v LoadBalancerView) bool { return *v.Name == "" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			page, err := rm.ListLoadBalancers(ctx, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			want := reference(views, c.keep, nil)
			if got := idsOf(page); !slices.Equal(got, want) {
				t.Errorf("got %v\nwant %v", got, want)
			}
			if len(want) == 0 || len(want) == lbCount && c.keep != nil {
				t.Errorf("case selects %d of %d: not a useful filter", len(want), lbCount)
			}
			if page.NextMarker != "" || page.PrevMarker != "" {
				t.Errorf("markers %q %q without limit or marker", page.NextMarker, page.PrevMarker)
			}
		})
	}
}

func TestListInvalidQueries(t *testing.T) {
	rm, _ := fixture(t)
	ctx := context.Background()
	cases := []struct {
		name string
		opts ListOptions
		msg  string
	}{
		{"unknown filter", ListOptions{Filters: map[string][]string{"colour": {"red"}}},
			"One or more arguments are either duplicate or invalid"},
		{"tenant_id is no data model attribute", ListOptions{Filters: map[string][]string{"tenant_id": {"p1"}}},
			"One or more arguments are either duplicate or invalid"},
		{"unknown sort key", ListOptions{Sort: []SortKey{{Key: "colour"}}}, "Supplied sort key 'colour' is not valid."},
		{"unknown marker", ListOptions{Limit: 2, Marker: "nope"}, "Supplied pagination marker 'nope' is not valid."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := rm.ListLoadBalancers(ctx, c.opts)
			if !errors.Is(err, ErrInvalidQuery) {
				t.Fatalf("err %v: want ErrInvalidQuery", err)
			}
			if err.Error() != c.msg {
				t.Errorf("message %q, want %q", err.Error(), c.msg)
			}
		})
	}
}

func TestListSort(t *testing.T) {
	rm, views := fixture(t)
	ctx := context.Background()
	sorts := [][]SortKey{
		nil,
		{{Key: "created_at", Desc: true}},
		{{Key: "name"}},
		{{Key: "name", Desc: true}},
		{{Key: "name"}, {Key: "created_at", Desc: true}},
		{{Key: "admin_state_up", Desc: true}, {Key: "name"}},
		{{Key: "vip_address", Desc: true}},
		{{Key: "id", Desc: true}},
		{{Key: "provisioning_status"}, {Key: "id", Desc: true}},
	}
	for _, s := range sorts {
		page, err := rm.ListLoadBalancers(ctx, ListOptions{Sort: s})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := idsOf(page), reference(views, nil, s); !slices.Equal(got, want) {
			t.Errorf("sort %v:\n got %v\nwant %v", s, got, want)
		}
	}
}

// TestListPagination walks every page forwards with next markers, then
// backwards with previous markers, and checks each item is seen once, in
// order, for several orders, page sizes and a project filter.
func TestListPagination(t *testing.T) {
	rm, views := fixture(t)
	ctx := context.Background()
	type scenario struct {
		sort    []SortKey
		project string
		limit   int
	}
	var scenarios []scenario
	for _, s := range [][]SortKey{nil, {{Key: "name", Desc: true}}, {{Key: "name"}, {Key: "created_at", Desc: true}}} {
		for _, limit := range []int{1, 4, 10, 30, 31} {
			scenarios = append(scenarios, scenario{s, "", limit})
		}
		scenarios = append(scenarios, scenario{s, "p2", 3})
	}
	for _, sc := range scenarios {
		keep := func(v LoadBalancerView) bool { return sc.project == "" || v.ProjectID == sc.project }
		want := reference(views, keep, sc.sort)
		base := ListOptions{ProjectID: sc.project, Sort: sc.sort, Limit: sc.limit}

		var forward []string
		var pages [][]string
		o := base
		for n := 0; ; n++ {
			if n > lbCount+2 {
				t.Fatalf("%+v: forward paging does not end", sc)
			}
			page, err := rm.ListLoadBalancers(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			ids := idsOf(page)
			if len(ids) > sc.limit {
				t.Fatalf("%+v: page of %d", sc, len(ids))
			}
			// Octavia: previous link whenever a marker was sent and the page
			// has items; next link when the page is full.
			if wantPrev := o.Marker != "" && len(ids) > 0; wantPrev != (page.PrevMarker != "") || wantPrev && page.PrevMarker != ids[0] {
				t.Fatalf("%+v: prev marker %q for page %v after %q", sc, page.PrevMarker, ids, o.Marker)
			}
			if wantNext := len(ids) == sc.limit; wantNext != (page.NextMarker != "") || wantNext && page.NextMarker != ids[len(ids)-1] {
				t.Fatalf("%+v: next marker %q for page %v", sc, page.NextMarker, ids)
			}
			forward = append(forward, ids...)
			if len(ids) > 0 {
				pages = append(pages, ids)
			}
			if page.NextMarker == "" {
				break
			}
			o.Marker = page.NextMarker
		}
		if !slices.Equal(forward, want) {
			t.Fatalf("%+v forward:\n got %v\nwant %v", sc, forward, want)
		}

		// Backwards from the last page, as a client following "previous".
		var backward []string
		last := pages[len(pages)-1]
		backward = append(backward, last...)
		o = base
		o.Marker, o.PageReverse = last[0], true
		for i := len(pages) - 2; ; i-- {
			page, err := rm.ListLoadBalancers(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			ids := idsOf(page)
			if i < 0 {
				if len(ids) != 0 || page.PrevMarker != "" {
					t.Fatalf("%+v: before the first page: %v prev %q", sc, ids, page.PrevMarker)
				}
				break
			}
			if !slices.Equal(ids, pages[i]) {
				t.Fatalf("%+v: reverse page %d = %v, want %v", sc, i, ids, pages[i])
			}
			backward = append(slices.Clone(ids), backward...)
			o.Marker = page.PrevMarker
		}
		if !slices.Equal(backward, want) {
			t.Fatalf("%+v backward:\n got %v\nwant %v", sc, backward, want)
		}
	}
}

func TestPageReverseWithoutMarkerIsTheFirstPage(t *testing.T) {
	rm, views := fixture(t)
	page, err := rm.ListLoadBalancers(context.Background(), ListOptions{Limit: 4, PageReverse: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := idsOf(page), reference(views, nil, nil)[:4]; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestListRawMatchesTyped(t *testing.T) {
	rm, _ := fixture(t)
	ctx := context.Background()
	o := ListOptions{Limit: 5, Sort: []SortKey{{Key: "name"}}}
	typed, err := rm.ListLoadBalancers(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := rm.ListLoadBalancersRaw(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw.Items) != len(typed.Items) || raw.NextMarker != typed.NextMarker {
		t.Fatalf("raw %d items next %q; typed %d next %q", len(raw.Items), raw.NextMarker, len(typed.Items), typed.NextMarker)
	}
	for i := range raw.Items {
		want, _ := json.Marshal(typed.Items[i])
		if string(raw.Items[i]) != string(want) {
			t.Errorf("item %d: raw %s\ntyped %s", i, raw.Items[i], want)
		}
	}
}

func TestGetAndChildren(t *testing.T) {
	rm := openTest(t)
	ctx := context.Background()
	s := sampleState()
	other := lbState(7, "other", t0)
	writeStates(t, rm, 3, s, other)

	lb, err := rm.GetLoadBalancer(ctx, lbID)
	if err != nil {
		t.Fatal(err)
	}
	if want := RenderLoadBalancer(s); !jsonEqual(t, lb, want) {
		t.Errorf("GetLoadBalancer = %+v", lb)
	}
	if _, err := rm.GetLoadBalancer(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing LB: %v", err)
	}
	l, err := rm.GetListener(ctx, lisA)
	if want, _ := RenderListener(s, lisA); err != nil || !jsonEqual(t, l, want) {
		t.Errorf("GetListener = %+v, %v", l, err)
	}
	p, err := rm.GetPool(ctx, poolID)
	if want, _ := RenderPool(s, poolID); err != nil || !jsonEqual(t, p, want) {
		t.Errorf("GetPool = %+v, %v", p, err)
	}
	hm, err := rm.GetHealthMonitor(ctx, hmID)
	if want, _ := RenderHealthMonitor(s, hmID); err != nil || !jsonEqual(t, hm, want) {
		t.Errorf("GetHealthMonitor = %+v, %v", hm, err)
	}
	m, err := rm.GetMember(ctx, poolID, memA)
	if want, _ := RenderMember(s, memA); err != nil || !jsonEqual(t, m, want) {
		t.Errorf("GetMember = %+v, %v", m, err)
	}
	if _, err := rm.GetMember(ctx, "another-pool", memA); !errors.Is(err, ErrNotFound) {
		t.Errorf("member through another pool: %v", err)
	}

	ms, err := rm.ListMembers(ctx, poolID, ListOptions{Sort: []SortKey{{Key: "address", Desc: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms.Items) != 2 || ms.Items[0].ID != memB || ms.Items[1].ID != memA {
		t.Errorf("members by address desc: %+v", ms.Items)
	}
	ms, err = rm.ListMembers(ctx, poolID, ListOptions{Filters: map[string][]string{"backup": {"true"}, "weight": {"10", "x"}}})
	if err != nil || len(ms.Items) != 1 || ms.Items[0].ID != memA {
		t.Errorf("members backup=true weight=10: %+v, %v", ms.Items, err)
	}
	if _, err := rm.ListMembers(ctx, "missing", ListOptions{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("members of a missing pool: %v", err)
	}
	if _, err := rm.ListMembers(ctx, poolID, ListOptions{Filters: map[string][]string{"vip_address": {"x"}}}); !errors.Is(err, ErrInvalidQuery) {
		t.Errorf("member filter on an LB attribute: %v", err)
	}

	ls, err := rm.ListListeners(ctx, ListOptions{Filters: map[string][]string{"loadbalancer_id": {lbID}, "protocol_port": {"22"}}})
	if err != nil || len(ls.Items) != 1 || ls.Items[0].ID != lisB {
		t.Errorf("listeners on port 22: %+v, %v", ls.Items, err)
	}
	ps, err := rm.ListPools(ctx, ListOptions{ProjectID: "other"})
	if err != nil || len(ps.Items) != 0 {
		t.Errorf("pools of another project: %+v, %v", ps.Items, err)
	}
	hms, err := rm.ListHealthMonitors(ctx, ListOptions{Filters: map[string][]string{"http_version": {"1.0"}}})
	if err != nil || len(hms.Items) != 1 {
		t.Errorf("monitors http_version=1.0: %+v, %v", hms.Items, err)
	}

	tree, err := rm.StatusTree(ctx, lbID)
	if err != nil || !jsonEqual(t, tree, RenderStatusTree(s)) {
		t.Errorf("StatusTree = %+v, %v", tree, err)
	}
	if _, err := rm.StatusTree(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("status of a missing LB: %v", err)
	}
}

func TestGraphRewriteDropsVanishedRows(t *testing.T) {
	rm := openTest(t)
	ctx := context.Background()
	s := sampleState()
	writeStates(t, rm, 1, s)
	before, err := renderRows(s)
	if err != nil {
		t.Fatal(err)
	}

	// The member and the monitor are gone, the listener renamed.
	delete(s.Members, memB)
	delete(s.HealthMonitors, hmID)
	s.Listeners[lisA].Spec.Name = ptr("renamed")
	after, err := renderRows(s)
	if err != nil {
		t.Fatal(err)
	}
	w, err := rm.beginWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	prev, err := w.writeGraph(lbID, nil, before) // what is stored: the sums of before
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.writeGraph(lbID, prev, after); err != nil {
		t.Fatal(err)
	}
	if err := w.commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := rm.GetMember(ctx, poolID, memB); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted member still served: %v", err)
	}
	if _, err := rm.GetHealthMonitor(ctx, hmID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted monitor still served: %v", err)
	}
	if l, _ := rm.GetListener(ctx, lisA); *l.Name != "renamed" {
		t.Errorf("listener name %q", *l.Name)
	}
	if p, _ := rm.GetPool(ctx, poolID); p.HealthMonitorID != nil || len(p.Members) != 1 {
		t.Errorf("pool not rewritten: %+v", p)
	}

	// Gone: every row of the graph goes.
	s.Gone = true
	gone, _ := renderRows(s)
	w, _ = rm.beginWrite(ctx)
	if _, err := w.writeGraph(lbID, nil, gone); err != nil {
		t.Fatal(err)
	}
	if err := w.commit(); err != nil {
		t.Fatal(err)
	}
	for _, tb := range append(slices.Clone(resourceTables), "status_trees") {
		var n int
		if err := rm.read.QueryRow(`SELECT COUNT(*) FROM ` + tb).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s has %d rows after delete (%v)", tb, n, err)
		}
	}
}

func TestPendingLoadBalancers(t *testing.T) {
	rm := openTest(t)
	writeStates(t, rm, 1,
		lbState(1, "p", t1, provisioning(loadbalancer.PendingUpdate)),
		lbState(2, "p", t0, provisioning(loadbalancer.PendingCreate)),
		lbState(3, "p", t0),
		lbState(4, "p", t0, provisioning(loadbalancer.ErrorStatus)),
		lbState(5, "p", t0, provisioning(loadbalancer.PendingDelete)),
	)
	ids, err := rm.PendingLoadBalancers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{lbIDOf(2), lbIDOf(5), lbIDOf(1)}; !slices.Equal(ids, want) {
		t.Errorf("pending %v, want %v", ids, want)
	}
}

func TestStats(t *testing.T) {
	rm := openTest(t)
	ctx := context.Background()
	writeStates(t, rm, 1, sampleState())

	if s, err := rm.LoadBalancerStats(ctx, lbID); err != nil || s != (Stats{}) {
		t.Errorf("before any report: %+v, %v", s, err)
	}
	if err := rm.PutStats(ctx, StatsListener, lisA, Stats{BytesIn: 10, BytesOut: 20, ActiveConnections: 1, TotalConnections: 5, RequestErrors: 1}); err != nil {
		t.Fatal(err)
	}
	if err := rm.PutStats(ctx, StatsListener, lisB, Stats{BytesIn: 1, TotalConnections: 2}); err != nil {
		t.Fatal(err)
	}
	if err := rm.PutStats(ctx, StatsListener, "not-in-this-lb", Stats{BytesIn: 1000}); err != nil {
		t.Fatal(err)
	}
	if err := rm.PutStats(ctx, StatsListener, lisB, Stats{BytesIn: 3, TotalConnections: 4}); err != nil { // replaces
		t.Fatal(err)
	}
	if err := rm.PutStats(ctx, "pool", poolID, Stats{}); err == nil {
		t.Error("unknown stats kind accepted")
	}
	if s, err := rm.ListenerStats(ctx, lisA); err != nil || s != (Stats{10, 20, 1, 5, 1}) {
		t.Errorf("listener A: %+v, %v", s, err)
	}
	if s, err := rm.LoadBalancerStats(ctx, lbID); err != nil || s != (Stats{13, 20, 1, 9, 1}) {
		t.Errorf("load balancer: %+v, %v", s, err)
	}
	if _, err := rm.ListenerStats(ctx, "not-in-this-lb"); !errors.Is(err, ErrNotFound) {
		t.Errorf("stats of an invisible listener: %v", err)
	}
	if _, err := rm.LoadBalancerStats(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("stats of a missing LB: %v", err)
	}
}

func TestReopenKeepsCheckpointAndSchema(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/rm.db"
	rm, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	writeStates(t, rm, 17, sampleState())
	_ = rm.Close()

	rm, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if cp, _ := rm.Checkpoint(ctx); cp != 17 {
		t.Errorf("checkpoint after reopen %d, want 17", cp)
	}
	// Another schema version: the derived tables are rebuilt from zero.
	if _, err := rm.write.Exec(`PRAGMA user_version = 999`); err != nil {
		t.Fatal(err)
	}
	_ = rm.Close()
	rm, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer rm.Close()
	if cp, _ := rm.Checkpoint(ctx); cp != 0 {
		t.Errorf("checkpoint after schema change %d, want 0", cp)
	}
	if _, err := rm.GetLoadBalancer(ctx, lbID); !errors.Is(err, ErrNotFound) {
		t.Errorf("rows survived a schema change: %v", err)
	}
}

func TestWaitFor(t *testing.T) {
	rm := openTest(t)
	ctx := context.Background()
	done := make(chan error, 1)
	go func() { done <- rm.WaitFor(ctx, 5) }()
	rm.advance(3)
	select {
	case err := <-done:
		t.Fatalf("returned before position 5: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	rm.advance(5)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("not woken by the commit reaching 5")
	}
	if err := rm.WaitFor(ctx, 4); err != nil {
		t.Errorf("already reached: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := rm.WaitFor(short, 6); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: %v", err)
	}
}

func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	x, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(x) != string(y) {
		t.Logf("got  %s\nwant %s", x, y)
		return false
	}
	return strings.TrimSpace(string(x)) != ""
}
