package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/octavia-es/octavia-es/events"
)

const columns = `position, id, stream, version, type, schema_version, time, actor, correlation_id, causation_id, data`

const (
	sqlReadStream = `SELECT ` + columns + ` FROM events WHERE stream = ? AND version > ? ORDER BY version`
	sqlReadAll    = `SELECT ` + columns + ` FROM events WHERE position > ? ORDER BY position LIMIT ?`
)

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, afterVersion int64) ([]events.Envelope, error) {
	rows, err := s.read.QueryContext(ctx, sqlReadStream, stream, afterVersion)
	if err != nil {
		return nil, fmt.Errorf("eventstore/sqlite: read stream %s: %w", stream, err)
	}
	out, err := scanAll(rows, 0)
	if err != nil {
		return nil, fmt.Errorf("eventstore/sqlite: read stream %s: %w", stream, err)
	}
	return out, nil
}

// ReadAll implements eventstore.Store. A limit below 1 is an error.
func (s *Store) ReadAll(ctx context.Context, afterPosition int64, limit int) ([]events.Envelope, error) {
	if limit < 1 {
		return nil, fmt.Errorf("eventstore/sqlite: read all: limit %d, want at least 1", limit)
	}
	rows, err := s.read.QueryContext(ctx, sqlReadAll, afterPosition, limit)
	if err != nil {
		return nil, fmt.Errorf("eventstore/sqlite: read all after %d: %w", afterPosition, err)
	}
	out, err := scanAll(rows, min(limit, subscribeBatch))
	if err != nil {
		return nil, fmt.Errorf("eventstore/sqlite: read all after %d: %w", afterPosition, err)
	}
	return out, nil
}

func scanAll(rows *sql.Rows, sizeHint int) ([]events.Envelope, error) {
	defer func() { _ = rows.Close() }()
	out := make([]events.Envelope, 0, sizeHint)
	var (
		lastActorJSON = "{}"
		lastActor     events.Actor
	)
	for rows.Next() {
		var (
			e         events.Envelope
			tm, actor string
			data      []byte
		)
		if err := rows.Scan(&e.Position, &e.ID, &e.Stream, &e.Version, &e.Type, &e.SchemaVersion,
			&tm, &actor, &e.CorrelationID, &e.CausationID, &data); err != nil {
			return nil, err
		}
		t, err := time.Parse(time.RFC3339Nano, tm)
		if err != nil {
			return nil, fmt.Errorf("position %d: time %q: %w", e.Position, tm, err)
		}
		e.Time = t
		// Events of one command share their actor: decode each distinct one once.
		if actor != lastActorJSON {
			lastActor = events.Actor{}
			if err := json.Unmarshal([]byte(actor), &lastActor); err != nil {
				return nil, fmt.Errorf("position %d: actor: %w", e.Position, err)
			}
			lastActorJSON = actor
		}
		e.Actor = lastActor
		if data == nil {
			return nil, fmt.Errorf("position %d: null data", e.Position)
		}
		e.Data = data
		out = append(out, e)
	}
	return out, rows.Err()
}
