package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"

	"github.com/octavia-es/octavia-es/adapters/internal/pgmigrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

const (
	// migrationsTable records the migrations applied, in the store's schema.
	migrationsTable = "schema_migrations"
	// migrateLockPurpose keys the advisory lock of Migrate with the schema
	// name: never change it, or an older build could migrate at once.
	migrateLockPurpose = "octavia-es/eventstore/migrate"
)

// Migrate creates the schema if needed and applies the migrations it lacks,
// all in one transaction under an advisory lock keyed on the schema name, so
// processes migrating at once apply each step exactly once and a failed step
// leaves nothing behind. Running it again is a no-op. Migrations a newer build
// applied are left alone (they are additive).
func (s *Store) Migrate(ctx context.Context) error {
	return s.migrateTo(ctx, 0)
}

// migrateTo is Migrate up to version upTo (0: all), so tests can make the
// schema an older build left behind.
func (s *Store) migrateTo(ctx context.Context, upTo int) error {
	migs, err := pgmigrate.Load(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("eventstore/postgres: migrate: %w", err)
	}
	if upTo > 0 && upTo < len(migs) {
		migs = migs[:upTo]
	}
	res, err := pgmigrate.Apply(ctx, s.pool, pgmigrate.Plan{
		Schema: s.schema, Table: migrationsTable, LockPurpose: migrateLockPurpose, Migrations: migs,
	})
	if err != nil {
		return fmt.Errorf("eventstore/postgres: migrate schema %s: %w", s.schema, err)
	}
	for _, name := range res.Applied {
		s.log.InfoContext(ctx, "eventstore/postgres: applied migration", "schema", s.schema, "migration", name)
	}
	return nil
}

// ErrNotMigrated: the schema lacks a table or function this build uses; run
// Migrate (octavia-es migrate) first.
var ErrNotMigrated = errors.New("eventstore/postgres: schema not migrated (run octavia-es migrate)")
