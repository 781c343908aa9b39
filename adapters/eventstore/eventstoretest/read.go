package eventstoretest

import (
	"fmt"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
)

var readTests = []test{
	{"ReadStreamAfterVersion", testReadStreamAfter},
	{"UnknownStreamIsEmpty", testUnknownStream},
	{"ReadAllFromPositionWithLimit", testReadAll},
	{"Head", testHead},
}

// interleave appends to streams a, b, c in turn: events 1..9 (positions
// 1..9 when gap-free), a = 1,4,7; b = 2,5,8; c = 3,6,9.
func interleave(t *testing.T, s eventstore.Store) {
	ctx := testContext(t)
	for round := range 3 {
		for _, stream := range []string{"a", "b", "c"} {
			mustAppend(ctx, t, s, stream, int64(round), newEvent("E", round))
		}
	}
}

func testReadStreamAfter(t *testing.T, s eventstore.Store, f Features) {
	ctx := testContext(t)
	interleave(t, s)
	o := readOrdinals(ctx, t, s, f)
	cases := []struct {
		after         int64
		wantVersions  []int64
		wantPositions []int64
	}{
		{0, seq(1, 3), []int64{2, 5, 8}},
		{1, seq(2, 3), []int64{5, 8}},
		{2, seq(3, 3), []int64{8}},
		{3, seq(1, 0), seq(1, 0)},
		{42, seq(1, 0), seq(1, 0)},
	}
	for _, c := range cases {
		got := mustReadStream(ctx, t, s, "b", c.after)
		if !equalInts(versions(got), c.wantVersions) || !equalInts(o.of(positions(got)), c.wantPositions) {
			t.Errorf("ReadStream(b, %d): versions %v positions %v (events %v), want %v and events %v",
				c.after, versions(got), positions(got), o.of(positions(got)), c.wantVersions, c.wantPositions)
		}
		for _, e := range got {
			if e.Stream != "b" {
				t.Errorf("ReadStream(b) returned an event of stream %q", e.Stream)
			}
		}
	}
}

func testUnknownStream(t *testing.T, s eventstore.Store, _ Features) {
	ctx := testContext(t)
	mustAppend(ctx, t, s, "known", eventstore.ExpectNoStream, newEvent("E", 0))
	got, err := s.ReadStream(ctx, "unknown", 0)
	if err != nil || len(got) != 0 {
		t.Fatalf("ReadStream(unknown) = %d events, %v; want 0, nil", len(got), err)
	}
}

func testReadAll(t *testing.T, s eventstore.Store, f Features) {
	ctx := testContext(t)
	interleave(t, s)
	o := readOrdinals(ctx, t, s, f)
	// after and want are events (ordinals); after=100 is past the end,
	// which only a gap-free store can name.
	cases := []struct {
		after int64
		limit int
		want  []int64
	}{
		{0, 100, seq(1, 9)},
		{0, 3, seq(1, 3)},
		{3, 4, seq(4, 7)},
		{7, 10, seq(8, 9)},
		{8, 1, seq(9, 9)},
		{9, 5, seq(1, 0)},
		{100, 5, seq(1, 0)},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("after=%d,limit=%d", c.after, c.limit), func(t *testing.T) {
			after, ok := o.at(c.after)
			if !ok {
				t.Skipf("event %d does not exist and positions are not gap-free: no position names it", c.after)
			}
			got, err := s.ReadAll(ctx, after, c.limit)
			if err != nil {
				t.Fatalf("ReadAll: %v", err)
			}
			if ord := o.of(positions(got)); !equalInts(ord, c.want) {
				t.Errorf("positions %v (events %v), want events %v", positions(got), ord, c.want)
			}
			for _, e := range got {
				// Streams were appended in turn, so the event's rank fixes stream and version.
				k := o.one(e.Position)
				wantStream := []string{"a", "b", "c"}[(k-1+3)%3]
				if e.Stream != wantStream || e.Version != (k-1)/3+1 {
					t.Errorf("event %d (position %d) is %s@%d, want %s@%d", k, e.Position, e.Stream, e.Version, wantStream, (k-1)/3+1)
				}
			}
		})
	}
}

func testHead(t *testing.T, s eventstore.Store, f Features) {
	ctx := testContext(t)
	if h := mustHead(ctx, t, s); h != 0 {
		t.Fatalf("Head of an empty store = %d, want 0", h)
	}
	mustAppend(ctx, t, s, "a", eventstore.ExpectNoStream, newEvents("E", 4)...)
	mustAppend(ctx, t, s, "b", eventstore.ExpectNoStream, newEvent("E", 0))
	if h := headOrdinal(ctx, t, s, f); h != 5 {
		t.Fatalf("Head is event %d, want 5", h)
	}
}
