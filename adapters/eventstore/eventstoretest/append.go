package eventstoretest

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/events"
)

var appendTests = []test{
	{"NewStreamWithExpectNoStream", testAppendNewStream},
	{"ExpectNoStreamOnExistingStream", testExpectNoStreamOnExisting},
	{"WrongExpectedVersion", testWrongExpectedVersion},
	{"ExpectAny", testExpectAny},
	{"BatchGetsConsecutiveVersionsAndPositions", testBatchConsecutive},
	{"InvalidInputWritesNothing", testInvalidInput},
	{"EmptyBatch", testEmptyBatch},
}

func testAppendNewStream(t *testing.T, s eventstore.Store, f Features) {
	ctx := testContext(t)
	got := mustAppend(ctx, t, s, "lb-1", eventstore.ExpectNoStream, newEvents("Created", 3)...)
	ord := readOrdinals(ctx, t, s, f).of(positions(got))
	if want := seq(1, 3); !equalInts(versions(got), want) || !equalInts(ord, want) {
		t.Fatalf("versions %v positions %v (events %v), want both %v", versions(got), positions(got), ord, want)
	}
	ids := map[string]bool{}
	for _, e := range got {
		if e.Stream != "lb-1" || e.ID == "" || e.Time.IsZero() {
			t.Errorf("returned envelope not completed: %+v", e)
		}
		ids[e.ID] = true
	}
	if len(ids) != 3 {
		t.Errorf("assigned IDs not distinct: %v", ids)
	}
	read := mustReadStream(ctx, t, s, "lb-1", 0)
	if len(read) != 3 {
		t.Fatalf("ReadStream returned %d events, want 3", len(read))
	}
	for i := range read {
		if d := sameEnvelope(read[i], got[i]); d != "" {
			t.Errorf("event %d: read differs from returned: %s", i, d)
		}
	}
}

func testExpectNoStreamOnExisting(t *testing.T, s eventstore.Store, f Features) {
	ctx := testContext(t)
	mustAppend(ctx, t, s, "lb-1", eventstore.ExpectNoStream, newEvent("Created", 0))
	_, err := s.Append(ctx, "lb-1", eventstore.ExpectNoStream, []events.Envelope{newEvent("Created", 1)})
	if !errors.Is(err, eventstore.ErrConcurrency) || !errors.Is(err, eventstore.ErrStreamExists) {
		t.Fatalf("second ExpectNoStream append: err = %v, want ErrConcurrency", err)
	}
	if h := headOrdinal(ctx, t, s, f); h != 1 {
		t.Errorf("Head is event %d after rejected append, want 1", h)
	}
}

func testWrongExpectedVersion(t *testing.T, s eventstore.Store, f Features) {
	ctx := testContext(t)
	mustAppend(ctx, t, s, "lb-1", eventstore.ExpectNoStream, newEvents("Changed", 2)...)
	mustAppend(ctx, t, s, "lb-other", eventstore.ExpectNoStream, newEvent("Changed", 0))

	for _, expected := range []int64{eventstore.ExpectNoStream, 1, 3, 7} {
		_, err := s.Append(ctx, "lb-1", expected, newEvents("Changed", 3))
		if !errors.Is(err, eventstore.ErrConcurrency) {
			t.Errorf("expected version %d on a stream at 2: err = %v, want ErrConcurrency", expected, err)
		}
	}
	if h := headOrdinal(ctx, t, s, f); h != 3 {
		t.Errorf("Head is event %d after rejected appends, want 3", h)
	}
	if got := mustReadStream(ctx, t, s, "lb-1", 0); len(got) != 2 {
		t.Errorf("stream has %d events after rejected appends, want 2", len(got))
	}
	// The right version still works, so nothing was left half-written.
	got := mustAppend(ctx, t, s, "lb-1", 2, newEvent("Changed", 9))
	if k := ordinalOf(ctx, t, s, f, got[0].Position); got[0].Version != 3 || k != 4 {
		t.Errorf("append at the right version got version %d, event %d (position %d), want 3 and 4", got[0].Version, k, got[0].Position)
	}
}

func testExpectAny(t *testing.T, s eventstore.Store, _ Features) {
	ctx := testContext(t)
	first := mustAppend(ctx, t, s, "lb-1", eventstore.ExpectAny, newEvents("Changed", 2)...)
	second := mustAppend(ctx, t, s, "lb-1", eventstore.ExpectAny, newEvent("Changed", 2))
	if !equalInts(versions(first), seq(1, 2)) || second[0].Version != 3 {
		t.Errorf("ExpectAny versions %v then %d, want [1 2] then 3", versions(first), second[0].Version)
	}
}

func testBatchConsecutive(t *testing.T, s eventstore.Store, f Features) {
	ctx := testContext(t)
	mustAppend(ctx, t, s, "a", eventstore.ExpectNoStream, newEvents("X", 2)...)
	mustAppend(ctx, t, s, "b", eventstore.ExpectNoStream, newEvents("X", 3)...)
	got := mustAppend(ctx, t, s, "a", 2, newEvents("Y", 4)...)
	if !equalInts(versions(got), seq(3, 6)) {
		t.Errorf("batch versions %v, want %v", versions(got), seq(3, 6))
	}
	o := readOrdinals(ctx, t, s, f)
	if ord := o.of(positions(got)); !equalInts(ord, seq(6, 9)) {
		t.Errorf("batch positions %v are events %v, want %v", positions(got), ord, seq(6, 9))
	}
	if h := o.one(mustHead(ctx, t, s)); h != 9 {
		t.Errorf("Head is event %d, want 9", h)
	}
}

func testInvalidInput(t *testing.T, s eventstore.Store, f Features) {
	ctx := testContext(t)
	mustAppend(ctx, t, s, "lb-1", eventstore.ExpectNoStream, newEvent("Created", 0))
	good := newEvent("Changed", 1)
	noType := newEvent("", 2)
	badJSON := newEvent("Changed", 3)
	badJSON.Data = json.RawMessage(`{"n":`)
	noData := newEvent("Changed", 4)
	noData.Data = nil

	cases := []struct {
		name     string
		stream   string
		expected int64
		evs      []events.Envelope
	}{
		{"empty stream name", "", eventstore.ExpectAny, []events.Envelope{good}},
		{"expected version below ExpectAny", "lb-1", -2, []events.Envelope{good}},
		{"event without type in the middle", "lb-1", 1, []events.Envelope{good, noType, good}},
		{"data not JSON at the end", "lb-1", 1, []events.Envelope{good, good, badJSON}},
		{"nil data", "lb-1", eventstore.ExpectAny, []events.Envelope{good, noData}},
	}
	for _, c := range cases {
		if _, err := s.Append(ctx, c.stream, c.expected, c.evs); err == nil {
			t.Errorf("%s: Append succeeded, want an error", c.name)
		}
	}
	if h := headOrdinal(ctx, t, s, f); h != 1 {
		t.Errorf("Head is event %d after rejected appends, want 1 (a batch is all or none)", h)
	}
}

func testEmptyBatch(t *testing.T, s eventstore.Store, _ Features) {
	ctx := testContext(t)
	got, err := s.Append(ctx, "lb-1", eventstore.ExpectAny, nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("Append of no events = %v, %v; want none, nil", got, err)
	}
	if h := mustHead(ctx, t, s); h != 0 {
		t.Errorf("Head = %d after an empty append, want 0", h)
	}
}
