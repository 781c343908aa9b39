package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered file of migrations/ (NNNN_name.sql).
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the embedded files in version order and checks the
// numbering is 1, 2, 3… with no gap or duplicate.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		if !ok {
			return nil, fmt.Errorf("migration %s: want NNNN_name.sql", base)
		}
		v, err := strconv.Atoi(num)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: bad version number %q", base, num)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: strings.TrimSuffix(base, ".sql"), sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: version %d, want %d (numbers must run 1, 2, 3… without gaps)", m.name, m.version, i+1)
		}
	}
	return out, nil
}

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
	migs, err := loadMigrations(migrationFiles)
	if err != nil {
		return fmt.Errorf("eventstore/postgres: migrate: %w", err)
	}
	if upTo > 0 && upTo < len(migs) {
		migs = migs[:upTo]
	}
	schema := pgx.Identifier{s.schema}.Sanitize()
	var applied []string
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Taken before CREATE SCHEMA: two processes creating it at once
		// would otherwise fail on pg_namespace's unique index.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLockKey(s.schema)); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+schema); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
		if _, err := tx.Exec(ctx, `SET LOCAL search_path TO `+schema); err != nil {
			return fmt.Errorf("search_path: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer     PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		have, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		done := make(map[int]bool, len(have))
		for _, v := range have {
			done[int(v)] = true
		}
		for _, m := range migs {
			if done[m.version] {
				continue
			}
			// No arguments: pgx sends it over the simple protocol, which
			// runs a file of several statements.
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
				return fmt.Errorf("%s: record: %w", m.name, err)
			}
			applied = append(applied, m.name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("eventstore/postgres: migrate schema %s: %w", s.schema, err)
	}
	for _, name := range applied {
		s.log.InfoContext(ctx, "eventstore/postgres: applied migration", "schema", s.schema, "migration", name)
	}
	return nil
}

// migrateLockKey is the advisory lock of one schema's migrations.
func migrateLockKey(schema string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("octavia-es/eventstore/migrate\x00" + schema))
	return int64(h.Sum64()) //nolint:gosec // a lock key: wrapping is fine
}

// ErrNotMigrated: the schema lacks a table or function this build uses; run
// Migrate (octavia-es migrate) first.
var ErrNotMigrated = errors.New("eventstore/postgres: schema not migrated (run octavia-es migrate)")
