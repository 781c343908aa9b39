package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations[i] brings the schema from user_version i to i+1. Append only;
// never edit a released step.
var migrations = []string{
	// 1: events and checkpoints. position is the rowid, assigned explicitly
	// (head+1…) inside the append transaction; time is RFC 3339 with
	// nanoseconds in UTC; actor is JSON.
	`CREATE TABLE events (
		position       INTEGER PRIMARY KEY,
		id             TEXT    NOT NULL UNIQUE,
		stream         TEXT    NOT NULL,
		version        INTEGER NOT NULL,
		type           TEXT    NOT NULL,
		schema_version INTEGER NOT NULL,
		time           TEXT    NOT NULL,
		actor          TEXT    NOT NULL,
		correlation_id TEXT    NOT NULL DEFAULT '',
		causation_id   TEXT    NOT NULL DEFAULT '',
		data           BLOB    NOT NULL,
		UNIQUE (stream, version)
	);
	CREATE TABLE checkpoints (
		name     TEXT    PRIMARY KEY,
		position INTEGER NOT NULL
	) WITHOUT ROWID;`,
}

// migrate applies the missing migrations in one immediate transaction, so
// two processes opening a new file at once don't both create the tables.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE via _txlock
	if err != nil {
		return fmt.Errorf("eventstore/sqlite: migrate: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	var version int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return fmt.Errorf("eventstore/sqlite: read schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("eventstore/sqlite: file has schema version %d, this build knows up to %d", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("eventstore/sqlite: migration %d: %w", i+1, err)
		}
	}
	if version == len(migrations) {
		return nil
	}
	// PRAGMA takes no bound parameters; the value is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations))); err != nil {
		return fmt.Errorf("eventstore/sqlite: set schema version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("eventstore/sqlite: migrate: %w", err)
	}
	return nil
}
