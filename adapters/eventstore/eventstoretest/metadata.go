package eventstoretest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/events"
)

var metadataTests = []test{
	{"RoundTrip", testMetadataRoundTrip},
	{"AssignedIDAndTime", testAssignedIDAndTime},
}

func testMetadataRoundTrip(t *testing.T, s eventstore.Store, f Features) {
	ctx := testContext(t)
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	in := events.Envelope{
		ID:            "0b6c7f8e-2d4f-4c52-9e0e-5d1b0a7c1234",
		Type:          "LoadBalancerCreateRequested",
		SchemaVersion: 3,
		Time:          time.Date(2024, 2, 29, 23, 59, 58, 123456789, zone),
		Actor:         events.Actor{ProjectID: "p-1", UserID: "u-ü", RequestID: "req-1"},
		CorrelationID: "corr-1",
		CausationID:   "cause-1",
		// Odd spacing, key order and escapes: stored bytes must come back as is.
		Data: json.RawMessage(`{"z": 1,"a" :[true, null, "é\u00e9"],  "n":{"x":-0.5e3}}`),
	}
	other := events.Envelope{Type: "Other", SchemaVersion: 1, Data: json.RawMessage(`{}`)}
	mustAppend(ctx, t, s, "x", eventstore.ExpectNoStream, other)
	ret := mustAppend(ctx, t, s, "lb-1", eventstore.ExpectNoStream, in)[0]
	o := readOrdinals(ctx, t, s, f)

	want := in
	want.Stream, want.Version, want.Position = "lb-1", 1, o.mustAt(t, 2)
	if d := sameEnvelope(ret, want); d != "" {
		t.Errorf("Append returned a different envelope: %s", d)
	}
	fromStream := mustReadStream(ctx, t, s, "lb-1", 0)
	if len(fromStream) != 1 {
		t.Fatalf("ReadStream returned %d events, want 1", len(fromStream))
	}
	if d := sameEnvelope(fromStream[0], want); d != "" {
		t.Errorf("ReadStream: %s", d)
	}
	first := o.mustAt(t, 1)
	fromAll, err := s.ReadAll(ctx, first, 10)
	if err != nil || len(fromAll) != 1 {
		t.Fatalf("ReadAll(%d, 10) = %d events, %v; want 1", first, len(fromAll), err)
	}
	if d := sameEnvelope(fromAll[0], want); d != "" {
		t.Errorf("ReadAll: %s", d)
	}

	// Neighbours with other metadata keep their own in one read.
	last := other
	last.Actor = events.Actor{UserID: "u-2"}
	mustAppend(ctx, t, s, "x", 1, last)
	all := readEverything(ctx, t, s)
	if len(all) != 3 {
		t.Fatalf("ReadAll returned %d events, want 3", len(all))
	}
	for i, wantActor := range []events.Actor{{}, in.Actor, last.Actor} {
		if all[i].Actor != wantActor {
			t.Errorf("event %d: Actor %+v, want %+v", i+1, all[i].Actor, wantActor)
		}
	}
}

func testAssignedIDAndTime(t *testing.T, s eventstore.Store, _ Features) {
	ctx := testContext(t)
	before := time.Now()
	got := mustAppend(ctx, t, s, "lb-1", eventstore.ExpectNoStream, newEvents("E", 2)...)
	after := time.Now()
	if got[0].ID == "" || got[0].ID == got[1].ID {
		t.Errorf("assigned IDs %q, %q: want distinct, non-empty", got[0].ID, got[1].ID)
	}
	for _, e := range got {
		if e.Time.Before(before.Add(-time.Second)) || e.Time.After(after.Add(time.Second)) {
			t.Errorf("assigned time %v not within [%v, %v]", e.Time, before, after)
		}
	}
	read := mustReadStream(ctx, t, s, "lb-1", 0)
	for i := range read {
		if d := sameEnvelope(read[i], got[i]); d != "" {
			t.Errorf("event %d: read differs from returned: %s", i, d)
		}
	}
}
