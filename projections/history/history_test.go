package history_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/eventstore/sqlite"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/projections"
	"github.com/octavia-es/octavia-es/projections/history"
	"github.com/octavia-es/octavia-es/projections/history/historytest"
)

type fixture struct {
	store  *sqlite.Store
	path   string
	reg    *events.Registry
	writes []historytest.Write
	all    []events.Envelope
}

// newFixture records a random workload over two projects in a real store.
func newFixture(t *testing.T, seed uint64, steps int) *fixture {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "events.db")
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	reg := events.NewRegistry()
	writes, err := historytest.Run(ctx, loadbalancer.NewHandler(store, reg, nil), rand.New(rand.NewPCG(seed, 1)),
		historytest.Options{LoadBalancers: 5, Steps: steps, Projects: []string{"p1", "p2"}})
	if err != nil {
		t.Fatal(err)
	}
	all, err := store.ReadAll(ctx, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(writes) < steps/3 || len(all) < len(writes) {
		t.Fatalf("workload too small: %d writes, %d events", len(writes), len(all))
	}
	return &fixture{store: store, path: path, reg: reg, writes: writes, all: all}
}

func (f *fixture) projectOf(t *testing.T, env events.Envelope) string {
	t.Helper()
	for _, w := range f.writes {
		if w.LoadBalancerID == history.LoadBalancerOf(env) {
			return w.State.LoadBalancer.Spec.ProjectID
		}
	}
	t.Fatalf("no write for %s", env.Stream)
	return ""
}

func render(t *testing.T, s loadbalancer.State) string {
	t.Helper()
	b, err := json.Marshal([]any{projections.RenderLoadBalancer(s), projections.RenderStatusTree(s)})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestStateAtEveryWrite: the state as of each write's position, and as of
// its time, renders as the state the command returned right after it.
func TestStateAtEveryWrite(t *testing.T) {
	f := newFixture(t, 7, 200)
	r := history.NewReader(f.store, f.reg)
	ctx := context.Background()
	timeOf := map[int64]string{}
	for _, env := range f.all {
		timeOf[env.Position] = history.FormatTime(env.Time)
	}
	for i, w := range f.writes {
		want := render(t, w.State)
		s, project, err := r.StateAt(ctx, w.LoadBalancerID, history.At{Position: w.Position})
		if err != nil {
			t.Fatal(err)
		}
		if got := render(t, s); got != want || project != w.State.LoadBalancer.Spec.ProjectID {
			t.Fatalf("write %d (%s) as of position %d:\n got %s\nwant %s", i, w.Command, w.Position, got, want)
		}
		if s.Alive() != w.State.Alive() {
			t.Fatalf("write %d: alive %v, want %v", i, s.Alive(), w.State.Alive())
		}
		at, err := history.ParseAt(timeOf[w.Position])
		if err != nil {
			t.Fatal(err)
		}
		if s, _, err = r.StateAt(ctx, w.LoadBalancerID, at); err != nil || render(t, s) != want {
			t.Fatalf("write %d as of time %s: %v\n got %s\nwant %s", i, timeOf[w.Position], err, render(t, s), want)
		}
	}
	// Before its first event a load balancer does not exist yet.
	first := f.writes[0]
	s, _, err := r.StateAt(ctx, first.LoadBalancerID, history.At{Position: 1})
	if err != nil || !s.Exists {
		t.Fatalf("as of the create: %v exists %v", err, s.Exists)
	}
	seen := map[string]int{}
	for _, w := range f.writes {
		seen[w.Command]++
		if w.LoadBalancerID != first.LoadBalancerID && w.Command == "loadbalancer.CreateLoadBalancer" {
			s, _, err := r.StateAt(ctx, w.LoadBalancerID, history.At{Position: w.First - 1})
			if err != nil || s.Exists {
				t.Fatalf("as of before the create: %v exists %v", err, s.Exists)
			}
		}
	}
	for _, c := range []string{"CreateLoadBalancer", "RecordLoadBalancerDeleted", "CreateListener", "CreatePool",
		"CreateMember", "RecordConfigurationApplied", "RecordConfigurationFailed", "UpdateLoadBalancer"} {
		if seen["loadbalancer."+c] == 0 {
			t.Errorf("the workload has no %s: %v", c, seen)
		}
	}
	if _, _, err := r.StateAt(ctx, "never", history.At{Position: 1}); !errors.Is(err, history.ErrNotFound) {
		t.Fatalf("unknown load balancer: %v", err)
	}
}

func positions(items []history.Item) []int64 {
	out := []int64{}
	for _, it := range items {
		out = append(out, it.Position)
	}
	return out
}

// follow pages through the feed with req until there is no next (or
// previous, reversed) page.
func follow(t *testing.T, r *history.Reader, req history.PageRequest) []int64 {
	t.Helper()
	var got []int64
	for range 10000 {
		p, err := r.Feed(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) > req.Limit {
			t.Fatalf("page of %d items, limit %d", len(p.Items), req.Limit)
		}
		if req.Reverse {
			got = append(positions(p.Items), got...)
			if p.PrevMarker == 0 {
				return got
			}
			req.Marker = p.PrevMarker
		} else {
			got = append(got, positions(p.Items)...)
			if p.NextMarker == 0 {
				return got
			}
			req.Marker = p.NextMarker
		}
	}
	t.Fatal("pages never end")
	return nil
}

func TestFeedPaging(t *testing.T) {
	f := newFixture(t, 11, 150)
	want := func(keep func(events.Envelope) bool) []int64 {
		out := []int64{}
		for _, env := range f.all {
			if keep(env) {
				out = append(out, env.Position)
			}
		}
		return out
	}
	head := f.all[len(f.all)-1].Position
	lb := history.LoadBalancerOf(f.all[0])
	since, before := f.all[len(f.all)/4].Time, f.all[len(f.all)/2].Time
	cases := []struct {
		name   string
		filter history.Filter
		keep   func(events.Envelope) bool
	}{
		{"all", history.Filter{}, func(events.Envelope) bool { return true }},
		{"project", history.Filter{ProjectID: "p2"}, func(e events.Envelope) bool { return f.projectOf(t, e) == "p2" }},
		{"load balancer", history.Filter{LoadBalancerID: lb}, func(e events.Envelope) bool { return history.LoadBalancerOf(e) == lb }},
		{"types", history.Filter{Types: []string{"listener.*", "loadbalancer.activated"}}, func(e events.Envelope) bool {
			return e.Type == "loadbalancer.activated" || len(e.Type) > 9 && e.Type[:9] == "listener."
		}},
		{"time", history.Filter{Since: since, Before: before}, func(e events.Envelope) bool {
			// Times compare at microsecond precision (history.TimeFormat):
			// events of the same microsecond as a bound are inside it.
			at := e.Time.Truncate(time.Microsecond)
			return !at.Before(since.Truncate(time.Microsecond)) && !at.After(before.Truncate(time.Microsecond))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			exp := want(tc.keep)
			if len(exp) == 0 {
				t.Fatal("the filter selects nothing: a useless case")
			}
			for _, limit := range []int{1, 7, 1000} {
				r := history.NewReader(f.store, f.reg)
				if got := follow(t, r, history.PageRequest{Filter: tc.filter, Limit: limit}); !reflect.DeepEqual(got, exp) {
					t.Fatalf("limit %d forward:\n got %v\nwant %v", limit, got, exp)
				}
				req := history.PageRequest{Filter: tc.filter, Limit: limit, Reverse: true, Marker: head + 1}
				if got := follow(t, r, req); !reflect.DeepEqual(got, exp) {
					t.Fatalf("limit %d backward:\n got %v\nwant %v", limit, got, exp)
				}
				// A tiny scan budget cuts pages short but loses nothing.
				history.SetScanBudget(r, 5)
				if got := follow(t, r, history.PageRequest{Filter: tc.filter, Limit: limit}); !reflect.DeepEqual(got, exp) {
					t.Fatalf("limit %d budget 5 forward:\n got %v\nwant %v", limit, got, exp)
				}
				if got := follow(t, r, req); !reflect.DeepEqual(got, exp) {
					t.Fatalf("limit %d budget 5 backward:\n got %v\nwant %v", limit, got, exp)
				}
			}
		})
	}
}

func TestLoadBalancerPages(t *testing.T) {
	f := newFixture(t, 3, 120)
	r := history.NewReader(f.store, f.reg)
	ctx := context.Background()
	var deleted string
	for _, w := range f.writes {
		if w.State.Gone {
			deleted = w.LoadBalancerID
		}
	}
	if deleted == "" {
		t.Fatal("the workload deleted no load balancer")
	}
	stream, err := f.store.ReadStream(ctx, events.StreamFor(deleted), 0)
	if err != nil {
		t.Fatal(err)
	}
	page, project, err := r.LoadBalancer(ctx, deleted, history.PageRequest{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != len(stream) || page.NextMarker != 0 || page.PrevMarker != 0 {
		t.Fatalf("deleted load balancer's history: %d items of %d, markers %d %d", len(page.Items), len(stream), page.NextMarker, page.PrevMarker)
	}
	for i, it := range page.Items {
		env := stream[i]
		if it.Position != env.Position || it.Version != env.Version || it.Type != env.Type || it.ID != env.ID ||
			*it.LoadBalancerID != deleted || *it.ProjectID != project || it.SchemaVersion != 1 || it.StoredSchema != 1 ||
			it.Time != history.FormatTime(env.Time) {
			t.Fatalf("item %d: %+v for %+v", i, it, env)
		}
		if !json.Valid(it.Data) || string(it.Data) == "null" {
			t.Fatalf("item %d data %s", i, it.Data)
		}
	}
	if last := page.Items[len(page.Items)-1]; last.Type != "loadbalancer.deleted" {
		t.Fatalf("last event %s", last.Type)
	}
	if _, _, err := r.LoadBalancer(ctx, "never", history.PageRequest{Limit: 10}); !errors.Is(err, history.ErrNotFound) {
		t.Fatalf("never created: %v", err)
	}
	if _, err := r.ProjectOf(ctx, "never"); !errors.Is(err, history.ErrNotFound) {
		t.Fatalf("project of never created: %v", err)
	}
	// Page two of size two, then the page before it.
	p2, _, err := r.LoadBalancer(ctx, deleted, history.PageRequest{Limit: 2, Marker: stream[1].Position})
	if err != nil || !reflect.DeepEqual(positions(p2.Items), []int64{stream[2].Position, stream[3].Position}) ||
		p2.PrevMarker != stream[2].Position || p2.NextMarker != stream[3].Position {
		t.Fatalf("page 2: %v %v next %d prev %d", err, positions(p2.Items), p2.NextMarker, p2.PrevMarker)
	}
	p1, _, err := r.LoadBalancer(ctx, deleted, history.PageRequest{Limit: 2, Marker: p2.PrevMarker, Reverse: true})
	if err != nil || !reflect.DeepEqual(positions(p1.Items), []int64{stream[0].Position, stream[1].Position}) {
		t.Fatalf("previous page: %v %v", err, positions(p1.Items))
	}
}

func TestParseAt(t *testing.T) {
	cases := []struct {
		in   string
		want history.At
		ok   bool
	}{
		{"42", history.At{Position: 42}, true},
		{"2026-01-02T03:04:05Z", history.At{Time: mustTime("2026-01-02T03:04:05Z")}, true},
		{"2026-01-02T03:04:05.123456+01:00", history.At{Time: mustTime("2026-01-02T02:04:05.123456Z")}, true},
		{"2026-01-02T03:04:05", history.At{Time: mustTime("2026-01-02T03:04:05Z")}, true},
		{"0", history.At{}, false},
		{"-3", history.At{}, false},
		{"", history.At{}, false},
		{"yesterday", history.At{}, false},
		{"2026-13-02T03:04:05Z", history.At{}, false},
	}
	for _, tc := range cases {
		got, err := history.ParseAt(tc.in)
		if (err == nil) != tc.ok || !got.Time.Equal(tc.want.Time) || got.Position != tc.want.Position {
			t.Errorf("ParseAt(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

func TestCheckTypes(t *testing.T) {
	reg := events.NewRegistry()
	for _, ok := range [][]string{nil, {"listener.create_requested"}, {"listener.*", "amphora.booted"}} {
		if err := history.CheckTypes(reg, ok); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
	for _, bad := range [][]string{{"listener"}, {"nope.made_up"}, {".*"}, {"a.b.*"}, {"*"}} {
		if err := history.CheckTypes(reg, bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func mustTime(s string) (t time.Time) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}
