// Package eventstore is the contract every event store implements: append
// with per-stream optimistic concurrency, read a stream, read everything in
// global order from a position, and follow new events. Implementations live
// in sub-packages (sqlite, later postgres and eventstoredb); all of them pass
// the suite in eventstoretest.
package eventstore

import (
	"context"
	"errors"

	"github.com/octavia-es/octavia-es/events"
)

// ErrConcurrency: the stream's version is not the expected one; another
// writer appended first. The caller reloads, re-decides and retries.
var ErrConcurrency = errors.New("eventstore: wrong expected version")

// ErrStreamExists: AppendNew on a stream that already has events.
// (ExpectNoStream with an existing stream returns ErrConcurrency too;
// this alias lets callers test with errors.Is either way.)
var ErrStreamExists = ErrConcurrency

const (
	// ExpectNoStream: the stream must not exist yet.
	ExpectNoStream int64 = 0
	// ExpectAny: append whatever the stream's version.
	ExpectAny int64 = -1
)

// Store is an event store. All methods are safe for concurrent use.
type Store interface {
	// Append adds events to the end of stream if its current version equals
	// expectedVersion (ExpectNoStream for a new stream, ExpectAny to skip
	// the check), atomically: all or none. It assigns Version, a global
	// Position (strictly increasing in commit order: a reader of ReadAll
	// never sees a lower position appear after a higher one; gap-free on the
	// SQL stores, with gaps on EventStoreDB — eventstoretest.Features), an
	// ID and Time when they are empty, and returns the stored envelopes.
	Append(ctx context.Context, stream string, expectedVersion int64, evs []events.Envelope) ([]events.Envelope, error)

	// ReadStream returns the events of stream with Version > afterVersion,
	// oldest first. A stream that does not exist has no events (no error).
	ReadStream(ctx context.Context, stream string, afterVersion int64) ([]events.Envelope, error)

	// ReadAll returns up to limit events with Position > afterPosition in
	// position order.
	ReadAll(ctx context.Context, afterPosition int64, limit int) ([]events.Envelope, error)

	// Head returns the highest committed global position (0 when empty).
	Head(ctx context.Context) (int64, error)

	// Subscribe delivers every event with Position > afterPosition, in order,
	// first the stored ones (catch-up) then new ones as they commit, until
	// ctx ends or handle returns an error (returned, wrapped). When ctx ends
	// it returns ctx.Err() (so errors.Is(err, context.Canceled) after a
	// cancel), never nil. The caller persists its own checkpoint.
	Subscribe(ctx context.Context, afterPosition int64, handle func(context.Context, events.Envelope) error) error

	// Close releases the store's resources.
	Close() error
}
