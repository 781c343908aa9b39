package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/events"
)

const (
	// One round trip for both: the stream's version and the global head.
	sqlVersionAndHead = `SELECT
		(SELECT COALESCE(MAX(version), 0) FROM events WHERE stream = ?),
		(SELECT COALESCE(MAX(position), 0) FROM events)`
	sqlInsert = `INSERT INTO events
		(position, id, stream, version, type, schema_version, time, actor, correlation_id, causation_id, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// writeStmts are prepared once on the single write connection; a
// transaction reuses them through Tx.StmtContext without re-preparing.
type writeStmts struct {
	versionAndHead, insert *sql.Stmt
}

func (w *writeStmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{{&w.versionAndHead, sqlVersionAndHead}, {&w.insert, sqlInsert}} {
		st, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			_ = w.close()
			return fmt.Errorf("eventstore/sqlite: prepare: %w", err)
		}
		*p.dst = st
	}
	return nil
}

func (w *writeStmts) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{w.versionAndHead, w.insert} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// row is an envelope's metadata encoded for its columns.
type row struct {
	time  string
	actor string
}

// Append implements eventstore.Store. The version check, the position
// assignment and the inserts run in one BEGIN IMMEDIATE transaction, so
// they hold SQLite's write lock throughout, even against other processes.
func (s *Store) Append(ctx context.Context, stream string, expectedVersion int64, evs []events.Envelope) ([]events.Envelope, error) {
	if stream == "" {
		return nil, errors.New("eventstore/sqlite: append: empty stream name")
	}
	if expectedVersion < eventstore.ExpectAny {
		return nil, fmt.Errorf("eventstore/sqlite: append: invalid expected version %d", expectedVersion)
	}
	out, rows, err := stage(stream, evs)
	if err != nil {
		return nil, err
	}

	s.appendMu.Lock()
	defer s.appendMu.Unlock()

	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("eventstore/sqlite: append to %s: begin: %w", stream, err)
	}
	defer func() { _ = tx.Rollback() }()

	var current, head int64
	if err := tx.StmtContext(ctx, s.stmts.versionAndHead).QueryRowContext(ctx, stream).Scan(&current, &head); err != nil {
		return nil, fmt.Errorf("eventstore/sqlite: append to %s: read version: %w", stream, err)
	}
	if expectedVersion != eventstore.ExpectAny && current != expectedVersion {
		return nil, fmt.Errorf("%w: stream %s is at version %d, expected %d",
			eventstore.ErrConcurrency, stream, current, expectedVersion)
	}
	if len(out) == 0 {
		return out, nil
	}

	insert := tx.StmtContext(ctx, s.stmts.insert)
	for i := range out {
		e := &out[i]
		e.Version = current + int64(i) + 1
		e.Position = head + int64(i) + 1
		if _, err := insert.ExecContext(ctx, e.Position, e.ID, stream, e.Version, e.Type, e.SchemaVersion,
			rows[i].time, rows[i].actor, e.CorrelationID, e.CausationID, []byte(e.Data)); err != nil {
			if strings.Contains(err.Error(), "UNIQUE constraint failed: events.id") {
				return nil, fmt.Errorf("eventstore/sqlite: append to %s: event id %s already stored: %w", stream, e.ID, err)
			}
			return nil, fmt.Errorf("eventstore/sqlite: append to %s: insert: %w", stream, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("eventstore/sqlite: append to %s: commit: %w", stream, err)
	}
	s.wake.notify()
	return out, nil
}

// stage validates the batch and fills what the store assigns before the
// transaction (ID, Time, Stream), so the write lock is held only for I/O.
func stage(stream string, evs []events.Envelope) ([]events.Envelope, []row, error) {
	out := make([]events.Envelope, len(evs))
	rows := make([]row, len(evs))
	now := time.Now().UTC()
	for i, e := range evs {
		if e.Type == "" {
			return nil, nil, fmt.Errorf("eventstore/sqlite: append to %s: event %d has no type", stream, i)
		}
		if !json.Valid(e.Data) {
			return nil, nil, fmt.Errorf("eventstore/sqlite: append to %s: event %d (%s): data is not valid JSON", stream, i, e.Type)
		}
		if e.ID == "" {
			e.ID = newID()
		}
		if e.Time.IsZero() {
			e.Time = now
		}
		e.Time = e.Time.UTC()
		if y := e.Time.Year(); y < 1 || y > 9999 {
			return nil, nil, fmt.Errorf("eventstore/sqlite: append to %s: event %d (%s): time %v out of range", stream, i, e.Type, e.Time)
		}
		actor, err := json.Marshal(e.Actor)
		if err != nil {
			return nil, nil, fmt.Errorf("eventstore/sqlite: append to %s: encode actor: %w", stream, err)
		}
		e.Stream = stream
		out[i] = e
		rows[i] = row{time: e.Time.Format(time.RFC3339Nano), actor: string(actor)}
	}
	return out, rows, nil
}

// newID returns a time-ordered UUID (v7): consecutive events then land on the
// same pages of the id index instead of dirtying a random page each.
func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}
