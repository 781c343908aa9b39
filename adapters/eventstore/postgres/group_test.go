package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/adapters/eventstore/postgres"
	"github.com/octavia-es/octavia-es/events"
)

// TestGroupOutcomesAreIndependent: in one group, an append with a wrong
// expected version and one reusing a stored event ID fail alone; the others
// are written, with positions contiguous in group order.
func TestGroupOutcomesAreIndependent(t *testing.T) {
	ctx := testContext(t)
	s := openFresh(t)
	closeOnCleanup(t, s)
	stored, err := s.Append(ctx, "a", eventstore.ExpectNoStream, []events.Envelope{event(0)})
	if err != nil {
		t.Fatal(err)
	}
	dup := event(9)
	dup.ID = stored[0].ID

	cases := []struct {
		app           postgres.GroupAppend
		wantErr       string // "" for success
		wantPositions []int64
		wantVersions  []int64
	}{
		{postgres.GroupAppend{Stream: "a", Expected: 1, Events: []events.Envelope{event(1), event(2)}}, "", []int64{2, 3}, []int64{2, 3}},
		{postgres.GroupAppend{Stream: "b", Expected: 5, Events: []events.Envelope{event(3)}}, "concurrency", nil, nil},
		{postgres.GroupAppend{Stream: "c", Expected: eventstore.ExpectAny, Events: []events.Envelope{event(4)}}, "", []int64{4}, []int64{1}},
		{postgres.GroupAppend{Stream: "d", Expected: eventstore.ExpectNoStream, Events: []events.Envelope{event(5), dup}}, "already stored", nil, nil},
		{postgres.GroupAppend{Stream: "e", Expected: eventstore.ExpectNoStream, Events: []events.Envelope{event(6), event(7), event(8)}}, "", []int64{5, 6, 7}, []int64{1, 2, 3}},
	}
	apps := make([]postgres.GroupAppend, len(cases))
	for i, c := range cases {
		apps[i] = c.app
	}
	results, err := postgres.AppendGroup(ctx, s, apps)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		got := results[i]
		switch {
		case c.wantErr == "concurrency":
			if !errors.Is(got.Err, eventstore.ErrConcurrency) {
				t.Errorf("append %d (%s): err = %v, want ErrConcurrency", i, c.app.Stream, got.Err)
			}
		case c.wantErr != "":
			if got.Err == nil || !strings.Contains(got.Err.Error(), c.wantErr) || errors.Is(got.Err, eventstore.ErrConcurrency) {
				t.Errorf("append %d (%s): err = %v, want one saying %q", i, c.app.Stream, got.Err, c.wantErr)
			}
		case got.Err != nil:
			t.Errorf("append %d (%s): %v", i, c.app.Stream, got.Err)
		default:
			var pos, ver []int64
			for _, e := range got.Events {
				pos, ver = append(pos, e.Position), append(ver, e.Version)
			}
			if !equal(pos, c.wantPositions) || !equal(ver, c.wantVersions) {
				t.Errorf("append %d (%s): positions %v versions %v, want %v %v", i, c.app.Stream, pos, ver, c.wantPositions, c.wantVersions)
			}
			read, err := s.ReadStream(ctx, c.app.Stream, c.wantVersions[0]-1)
			if err != nil || len(read) != len(got.Events) {
				t.Fatalf("ReadStream(%s) = %d events, %v; want %d", c.app.Stream, len(read), err, len(got.Events))
			}
			for j := range read {
				if read[j].Position != got.Events[j].Position || read[j].ID != got.Events[j].ID {
					t.Errorf("%s: stored %d@%s, returned %d@%s", c.app.Stream, read[j].Position, read[j].ID, got.Events[j].Position, got.Events[j].ID)
				}
			}
		}
	}
	if h, err := s.Head(ctx); err != nil || h != 7 {
		t.Errorf("Head = %d, %v; want 7 (rejected appends use no positions)", h, err)
	}
	for _, stream := range []string{"b", "d"} {
		if got, err := s.ReadStream(ctx, stream, 0); err != nil || len(got) != 0 {
			t.Errorf("rejected stream %s holds %d events, %v; want none", stream, len(got), err)
		}
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestGroupRejectionsUseNoPositions: a group whose statement succeeds but
// rejects some appends gives back the positions it reserved for them, so
// positions stay contiguous (a group with a failing statement is retried
// append by append, which TestGroupOutcomesAreIndependent covers).
func TestGroupRejectionsUseNoPositions(t *testing.T) {
	ctx := testContext(t)
	s := openFresh(t)
	closeOnCleanup(t, s)
	if _, err := s.Append(ctx, "a", eventstore.ExpectNoStream, []events.Envelope{event(0)}); err != nil {
		t.Fatal(err)
	}
	groups := []struct {
		name     string
		apps     []postgres.GroupAppend
		wantOK   []bool
		wantHead int64
	}{
		{"rejected in the middle", []postgres.GroupAppend{
			{Stream: "a", Expected: 1, Events: []events.Envelope{by("p1", event(1)), by("p2", event(2))}},
			{Stream: "b", Expected: 3, Events: []events.Envelope{by("p3", event(3)), event(4), event(5)}},
			{Stream: "c", Expected: eventstore.ExpectAny, Events: []events.Envelope{by("p4", event(6))}},
		}, []bool{true, false, true}, 4},
		{"all rejected", []postgres.GroupAppend{
			{Stream: "a", Expected: 1, Events: []events.Envelope{event(7)}},
			{Stream: "c", Expected: eventstore.ExpectNoStream, Events: []events.Envelope{event(8)}},
		}, []bool{false, false}, 4},
		{"first rejected", []postgres.GroupAppend{
			{Stream: "b", Expected: 1, Events: []events.Envelope{by("p5", event(9))}},
			{Stream: "d", Expected: eventstore.ExpectNoStream, Events: []events.Envelope{by("p6", event(10)), by("p6", event(11))}},
		}, []bool{false, true}, 6},
	}
	for _, g := range groups {
		results, err := postgres.AppendGroup(ctx, s, g.apps)
		if err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		for i, r := range results {
			if ok := r.Err == nil; ok != g.wantOK[i] || (!ok && !errors.Is(r.Err, eventstore.ErrConcurrency)) {
				t.Errorf("%s: append %d (%s): err = %v, want written %v or ErrConcurrency", g.name, i, g.apps[i].Stream, r.Err, g.wantOK[i])
				continue
			}
			if r.Err == nil {
				assertStored(ctx, t, s, r.Events)
			}
		}
		if h, err := s.Head(ctx); err != nil || h != g.wantHead {
			t.Errorf("%s: Head = %d, %v; want %d", g.name, h, err, g.wantHead)
		}
	}
	all, err := s.ReadAll(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range all {
		if e.Position != int64(i+1) {
			t.Fatalf("ReadAll position %d at index %d, want %d (no gaps)", e.Position, i, i+1)
		}
	}
	if len(all) != 6 {
		t.Errorf("ReadAll holds %d events, want 6", len(all))
	}
	got, err := s.Append(ctx, "e", eventstore.ExpectNoStream, []events.Envelope{event(12)})
	if err != nil || got[0].Position != 7 {
		t.Errorf("append after the groups = %+v, %v; want position 7", got, err)
	}
}

// by gives e an actor of project p.
func by(p string, e events.Envelope) events.Envelope {
	e.Actor = events.Actor{ProjectID: p, RequestID: "req-" + p}
	return e
}

// assertStored fails unless the stream holds evs at the positions and
// versions Append returned for them, with their actors.
func assertStored(ctx context.Context, t *testing.T, s *postgres.Store, evs []events.Envelope) {
	t.Helper()
	read, err := s.ReadStream(ctx, evs[0].Stream, evs[0].Version-1)
	if err != nil || len(read) < len(evs) {
		t.Fatalf("ReadStream(%s) = %d events, %v; want at least %d", evs[0].Stream, len(read), err, len(evs))
	}
	for j, e := range evs {
		if read[j].ID != e.ID || read[j].Position != e.Position || read[j].Version != e.Version || read[j].Actor != e.Actor {
			t.Errorf("%s: stored %s at position %d version %d by %+v, returned at %d version %d by %+v",
				e.Stream, read[j].ID, read[j].Position, read[j].Version, read[j].Actor, e.Position, e.Version, e.Actor)
		}
	}
}
