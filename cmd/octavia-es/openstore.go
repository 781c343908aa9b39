package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/octavia-es/octavia-es/adapters/bus"
	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/adapters/eventstore/postgres"
	"github.com/octavia-es/octavia-es/adapters/eventstore/sqlite"
)

// sharedStore is the event store of store.driver with its checkpoints
// (the forwarder's position lives beside the events it forwards).
type sharedStore struct {
	eventstore.Store
	checkpoints bus.Checkpoints
}

// openStore opens the configured event store. PostgreSQL is never
// migrated here: schema changes are the operator's `octavia-es migrate`,
// run once before the processes start.
func openStore(ctx context.Context, cfg Config, log *slog.Logger) (*sharedStore, error) {
	switch cfg.Store.Driver {
	case storePostgres:
		s, err := postgres.Open(ctx, cfg.Store.PostgresDSN, postgres.WithSchema(cfg.Store.PostgresSchema),
			postgres.WithLogger(log.With("component", "eventstore")))
		if err != nil {
			return nil, err
		}
		if _, err := s.Head(ctx); err != nil { // Open does not look at the schema
			_ = s.Close()
			if errors.Is(err, postgres.ErrNotMigrated) {
				return nil, fmt.Errorf("PostgreSQL event store schema %q is not migrated: run `octavia-es migrate --postgres-dsn DSN --postgres-schema %s` first: %w",
					cfg.Store.PostgresSchema, cfg.Store.PostgresSchema, err)
			}
			return nil, err
		}
		return &sharedStore{Store: s, checkpoints: s.Checkpoints()}, nil
	default:
		s, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "events.db"))
		if err != nil {
			return nil, err
		}
		return &sharedStore{Store: s, checkpoints: s.Checkpoints()}, nil
	}
}
