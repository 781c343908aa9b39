package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/events"
)

const (
	appendFunction = "append_events"
	// An empty append still checks the expected version (no lock needed:
	// nothing is written).
	sqlStreamVersion = `SELECT COALESCE(MAX(version), 0) FROM events WHERE stream = $1`

	codeConcurrency     = "OC409" // raised by append_events
	codeUniqueViolation = "23505"
)

// appendSQL calls the append function fn (append_events; tests swap in a
// broken variant to show the conformance suite catches it).
func appendSQL(fn string) string {
	return `SELECT last_position, last_version FROM ` + fn + `($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`
}

// batch is a staged append as the columns of append_events.
type batch struct {
	ids, types, actors, correlationIDs, causationIDs []string
	schemaVersions                                   []int32
	times                                            []time.Time
	data                                             []json.RawMessage
}

// Append implements eventstore.Store: one call of append_events, which runs
// as one transaction on the server (see migrations/0002_append_events.sql).
func (s *Store) Append(ctx context.Context, stream string, expectedVersion int64, evs []events.Envelope) ([]events.Envelope, error) {
	if stream == "" {
		return nil, errors.New("eventstore/postgres: append: empty stream name")
	}
	if expectedVersion < eventstore.ExpectAny {
		return nil, fmt.Errorf("eventstore/postgres: append: invalid expected version %d", expectedVersion)
	}
	out, b, err := stage(stream, evs)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, s.checkVersion(ctx, stream, expectedVersion)
	}

	var lastPos, lastVersion int64
	err = s.pool.QueryRow(ctx, s.sqlAppend, stream, expectedVersion, s.channel,
		b.ids, b.types, b.schemaVersions, b.times, b.actors, b.correlationIDs, b.causationIDs, b.data,
	).Scan(&lastPos, &lastVersion)
	if err != nil {
		return nil, appendError(stream, err)
	}
	n := int64(len(out))
	for i := range out {
		out[i].Position = lastPos - n + int64(i) + 1
		out[i].Version = lastVersion - n + int64(i) + 1
	}
	s.wake.notify() // local subscribers need not wait for the NOTIFY round trip
	return out, nil
}

func (s *Store) checkVersion(ctx context.Context, stream string, expected int64) error {
	if expected == eventstore.ExpectAny {
		return nil
	}
	var current int64
	if err := s.pool.QueryRow(ctx, sqlStreamVersion, stream).Scan(&current); err != nil {
		return fmt.Errorf("eventstore/postgres: append to %s: read version: %w", stream, wrapSchemaErr(err))
	}
	if current != expected {
		return fmt.Errorf("%w: stream %s is at version %d, expected %d", eventstore.ErrConcurrency, stream, current, expected)
	}
	return nil
}

// appendError maps append_events' failures to the contract's errors.
func appendError(stream string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == codeConcurrency:
			return fmt.Errorf("%w: %s", eventstore.ErrConcurrency, pgErr.Message)
		case pgErr.Code == codeUniqueViolation && pgErr.ConstraintName == "events_stream_version_key":
			// Only under an isolation level other than READ COMMITTED.
			return fmt.Errorf("%w: stream %s: %s", eventstore.ErrConcurrency, stream, pgErr.Message)
		case pgErr.Code == codeUniqueViolation && pgErr.ConstraintName == "events_id_key":
			return fmt.Errorf("eventstore/postgres: append to %s: event id already stored: %w", stream, err)
		}
	}
	return fmt.Errorf("eventstore/postgres: append to %s: %w", stream, wrapSchemaErr(err))
}

// stage validates the batch and fills what the store assigns itself (ID,
// Time, Stream), returning the envelopes to return and their columns.
func stage(stream string, evs []events.Envelope) ([]events.Envelope, batch, error) {
	n := len(evs)
	out := make([]events.Envelope, n)
	b := batch{
		ids: make([]string, n), types: make([]string, n), actors: make([]string, n),
		correlationIDs: make([]string, n), causationIDs: make([]string, n),
		schemaVersions: make([]int32, n), times: make([]time.Time, n), data: make([]json.RawMessage, n),
	}
	now := time.Now()
	var lastActor events.Actor
	lastActorJSON := ""
	for i, e := range evs {
		if e.Type == "" {
			return nil, batch{}, fmt.Errorf("eventstore/postgres: append to %s: event %d has no type", stream, i)
		}
		if !json.Valid(e.Data) {
			return nil, batch{}, fmt.Errorf("eventstore/postgres: append to %s: event %d (%s): data is not valid JSON", stream, i, e.Type)
		}
		if e.SchemaVersion < -1<<31 || e.SchemaVersion > 1<<31-1 {
			return nil, batch{}, fmt.Errorf("eventstore/postgres: append to %s: event %d (%s): schema version %d out of range", stream, i, e.Type, e.SchemaVersion)
		}
		if e.ID == "" {
			e.ID = newID()
		}
		if e.Time.IsZero() {
			e.Time = now
		}
		// timestamptz keeps microseconds: return what a read will return.
		e.Time = e.Time.UTC().Truncate(time.Microsecond)
		if y := e.Time.Year(); y < 1 || y > 9999 {
			return nil, batch{}, fmt.Errorf("eventstore/postgres: append to %s: event %d (%s): time %v out of range", stream, i, e.Type, e.Time)
		}
		// Events of one command share their actor: encode it once.
		if i == 0 || e.Actor != lastActor {
			a, err := json.Marshal(e.Actor)
			if err != nil {
				return nil, batch{}, fmt.Errorf("eventstore/postgres: append to %s: encode actor: %w", stream, err)
			}
			lastActor, lastActorJSON = e.Actor, string(a)
		}
		e.Stream = stream
		out[i] = e
		b.ids[i], b.types[i], b.actors[i] = e.ID, e.Type, lastActorJSON
		b.correlationIDs[i], b.causationIDs[i] = e.CorrelationID, e.CausationID
		b.schemaVersions[i], b.times[i], b.data[i] = int32(e.SchemaVersion), e.Time, e.Data
	}
	return out, b, nil
}

// newID returns a time-ordered UUID (v7): consecutive events land on the
// same pages of the id index instead of dirtying a random page each.
func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}
