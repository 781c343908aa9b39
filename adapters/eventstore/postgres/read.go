package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/octavia-es/octavia-es/events"
)

const columns = `position, id, stream, version, type, schema_version, time, actor, correlation_id, causation_id, data`

const (
	sqlReadStream = `SELECT ` + columns + ` FROM events WHERE stream = $1 AND version > $2 ORDER BY version`
	sqlReadAll    = `SELECT ` + columns + ` FROM events WHERE position > $1 ORDER BY position LIMIT $2`
)

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, afterVersion int64) ([]events.Envelope, error) {
	rows, err := s.pool.Query(ctx, sqlReadStream, stream, afterVersion)
	if err != nil {
		return nil, fmt.Errorf("eventstore/postgres: read stream %s: %w", stream, wrapSchemaErr(err))
	}
	out, err := scanAll(rows, 0)
	if err != nil {
		return nil, fmt.Errorf("eventstore/postgres: read stream %s: %w", stream, wrapSchemaErr(err))
	}
	return out, nil
}

// ReadAll implements eventstore.Store. A limit below 1 is an error.
func (s *Store) ReadAll(ctx context.Context, afterPosition int64, limit int) ([]events.Envelope, error) {
	if limit < 1 {
		return nil, fmt.Errorf("eventstore/postgres: read all: limit %d, want at least 1", limit)
	}
	rows, err := s.pool.Query(ctx, sqlReadAll, afterPosition, limit)
	if err != nil {
		return nil, fmt.Errorf("eventstore/postgres: read all after %d: %w", afterPosition, wrapSchemaErr(err))
	}
	out, err := scanAll(rows, min(limit, subscribeBatch))
	if err != nil {
		return nil, fmt.Errorf("eventstore/postgres: read all after %d: %w", afterPosition, wrapSchemaErr(err))
	}
	return out, nil
}

func scanAll(rows pgx.Rows, sizeHint int) ([]events.Envelope, error) {
	defer rows.Close()
	out := make([]events.Envelope, 0, sizeHint)
	var (
		lastActorJSON []byte
		lastActor     events.Actor
		actor         []byte
	)
	for rows.Next() {
		var e events.Envelope
		if err := rows.Scan(&e.Position, &e.ID, &e.Stream, &e.Version, &e.Type, &e.SchemaVersion,
			&e.Time, &actor, &e.CorrelationID, &e.CausationID, (*[]byte)(&e.Data)); err != nil {
			return nil, err
		}
		e.Time = e.Time.UTC()
		// Events of one command share their actor: decode each distinct one once.
		if lastActorJSON == nil || string(actor) != string(lastActorJSON) {
			lastActor = events.Actor{}
			if err := json.Unmarshal(actor, &lastActor); err != nil {
				return nil, fmt.Errorf("position %d: actor: %w", e.Position, err)
			}
			lastActorJSON = append(lastActorJSON[:0], actor...)
		}
		e.Actor = lastActor
		out = append(out, e)
	}
	return out, rows.Err()
}
