package sqlite_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/events"
)

// benchEvent is about the size of a real payload (a listener spec).
func benchEvent() events.Envelope {
	return events.Envelope{
		Type:          "ListenerCreateRequested",
		SchemaVersion: 1,
		Actor:         events.Actor{ProjectID: "e3cd678b11784734bc366148aa37580e", RequestID: "req-9b1c2f"},
		CorrelationID: "req-9b1c2f",
		Data: json.RawMessage(`{"id":"0b6c7f8e-2d4f-4c52-9e0e-5d1b0a7c1234","name":"web","protocol":"HTTP",` +
			`"protocol_port":80,"connection_limit":-1,"admin_state_up":true,"timeout_client_data":50000}`),
	}
}

// BenchmarkAppend: one Append (one transaction) per iteration, to one of 64
// streams in turn with its exact expected version. IDs are left to the store
// (time-ordered), or set by the caller as random v4 UUIDs the way
// events.Registry.Encode does, which dirties a random id-index page per event.
func BenchmarkAppend(b *testing.B) {
	for _, bc := range []struct {
		size     int
		callerID bool
	}{{1, false}, {10, false}, {1, true}, {10, true}} {
		name := fmt.Sprintf("batch=%d", bc.size)
		if bc.callerID {
			name += "/uuidv4"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			s := open(b, tempPath(b))
			closeOnCleanup(b, s)
			batch := make([]events.Envelope, bc.size)
			const streams = 64
			var versions [streams]int64
			size := bc.size
			for i := 0; b.Loop(); i++ {
				for j := range batch {
					batch[j] = benchEvent()
					if bc.callerID {
						batch[j].ID = uuid.NewString()
					}
				}
				k := i % streams
				if _, err := s.Append(ctx, fmt.Sprintf("loadbalancer-%d", k), versions[k], batch); err != nil {
					b.Fatal(err)
				}
				versions[k] += int64(size)
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkReadAll reads pages of 500 from a store of 10,000 events.
func BenchmarkReadAll(b *testing.B) {
	ctx := context.Background()
	s := open(b, tempPath(b))
	closeOnCleanup(b, s)
	const total, page = 10_000, 500
	batch := make([]events.Envelope, 100)
	for i := range batch {
		batch[i] = benchEvent()
	}
	for i := range total / len(batch) {
		if _, err := s.Append(ctx, fmt.Sprintf("loadbalancer-%d", i), eventstore.ExpectNoStream, batch); err != nil {
			b.Fatal(err)
		}
	}
	var after int64
	read := 0
	for b.Loop() {
		evs, err := s.ReadAll(ctx, after, page)
		if err != nil {
			b.Fatal(err)
		}
		if len(evs) != page {
			b.Fatalf("read %d events, want %d", len(evs), page)
		}
		read += len(evs)
		after = evs[len(evs)-1].Position % (total - page)
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "events/s")
}
