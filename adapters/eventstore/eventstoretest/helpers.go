package eventstoretest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/events"
)

// testTimeout bounds every subtest so a hung store fails instead of
// stalling the run.
const testTimeout = 10 * time.Second

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// newEvent is a minimal envelope the store completes (ID, Time, Version,
// Position left empty).
func newEvent(typ string, n int) events.Envelope {
	return events.Envelope{
		Type:          typ,
		SchemaVersion: 1,
		Data:          json.RawMessage(fmt.Sprintf(`{"n":%d}`, n)),
	}
}

func newEvents(typ string, count int) []events.Envelope {
	out := make([]events.Envelope, count)
	for i := range out {
		out[i] = newEvent(typ, i)
	}
	return out
}

func mustAppend(ctx context.Context, t *testing.T, s eventstore.Store, stream string, expected int64, evs ...events.Envelope) []events.Envelope {
	t.Helper()
	got, err := s.Append(ctx, stream, expected, evs)
	if err != nil {
		t.Fatalf("Append(%s, %d, %d events): %v", stream, expected, len(evs), err)
	}
	if len(got) != len(evs) {
		t.Fatalf("Append(%s) returned %d envelopes, want %d", stream, len(got), len(evs))
	}
	return got
}

func mustHead(ctx context.Context, t *testing.T, s eventstore.Store) int64 {
	t.Helper()
	h, err := s.Head(ctx)
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	return h
}

func mustReadStream(ctx context.Context, t *testing.T, s eventstore.Store, stream string, after int64) []events.Envelope {
	t.Helper()
	got, err := s.ReadStream(ctx, stream, after)
	if err != nil {
		t.Fatalf("ReadStream(%s, %d): %v", stream, after, err)
	}
	return got
}

// readEverything reads the whole log through ReadAll in pages.
func readEverything(ctx context.Context, t *testing.T, s eventstore.Store) []events.Envelope {
	t.Helper()
	var all []events.Envelope
	var after int64
	for {
		page, err := s.ReadAll(ctx, after, 1000)
		if err != nil {
			t.Fatalf("ReadAll(%d, 1000): %v", after, err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = page[len(page)-1].Position
	}
}

func positions(evs []events.Envelope) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.Position
	}
	return out
}

func versions(evs []events.Envelope) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.Version
	}
	return out
}

// seq returns from, from+1, …, to (empty when to < from).
func seq(from, to int64) []int64 {
	out := []int64{}
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func equalInts(a, b []int64) bool {
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

// sameEnvelope reports the first field where a and b differ ("" if none).
// Time is compared to the microsecond, Data byte for byte.
func sameEnvelope(a, b events.Envelope) string {
	switch {
	case a.ID != b.ID:
		return fmt.Sprintf("ID %q != %q", a.ID, b.ID)
	case a.Stream != b.Stream:
		return fmt.Sprintf("Stream %q != %q", a.Stream, b.Stream)
	case a.Version != b.Version:
		return fmt.Sprintf("Version %d != %d", a.Version, b.Version)
	case a.Position != b.Position:
		return fmt.Sprintf("Position %d != %d", a.Position, b.Position)
	case a.Type != b.Type:
		return fmt.Sprintf("Type %q != %q", a.Type, b.Type)
	case a.SchemaVersion != b.SchemaVersion:
		return fmt.Sprintf("SchemaVersion %d != %d", a.SchemaVersion, b.SchemaVersion)
	case !closeTimes(a.Time, b.Time):
		return fmt.Sprintf("Time %s != %s", a.Time.Format(time.RFC3339Nano), b.Time.Format(time.RFC3339Nano))
	case a.Actor != b.Actor:
		return fmt.Sprintf("Actor %+v != %+v", a.Actor, b.Actor)
	case a.CorrelationID != b.CorrelationID:
		return fmt.Sprintf("CorrelationID %q != %q", a.CorrelationID, b.CorrelationID)
	case a.CausationID != b.CausationID:
		return fmt.Sprintf("CausationID %q != %q", a.CausationID, b.CausationID)
	case string(a.Data) != string(b.Data):
		return fmt.Sprintf("Data %s != %s", a.Data, b.Data)
	}
	return ""
}

// closeTimes: equal to within a microsecond (a store may round to it).
func closeTimes(a, b time.Time) bool {
	d := a.Sub(b)
	return d > -time.Microsecond && d < time.Microsecond
}
