package pgmigrate

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"

	"github.com/jackc/pgx/v5"
)

// DB begins transactions: a *pgxpool.Pool or a *pgx.Conn.
type DB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Plan is what Apply applies and where.
type Plan struct {
	Schema string // created if missing; the migrations run with it as search_path
	// Table records the versions applied, in Schema. Two plans sharing a
	// schema need tables of their own: each numbers its files from 1.
	Table string
	// LockPurpose and Schema key the advisory lock (LockKey): runs of one
	// plan serialise, across builds too as long as neither changes.
	LockPurpose string
	Migrations  []Migration // as Load returns them (a prefix of them is fine)
	// OnCreate, when set, runs in the transaction after this run applied
	// version 1, so that no other process ever sees what it created without
	// what OnCreate adds. Its error rolls everything back and is returned as is.
	OnCreate func(ctx context.Context, tx pgx.Tx) error
}

// Result says what Apply did.
type Result struct {
	Applied []string // names of the migrations this run applied, in order
	Created bool     // this run applied version 1 (and ran OnCreate)
}

// Apply creates the schema if needed and applies the migrations the table
// does not record, all in one transaction under the plan's advisory lock: runs
// at once apply each migration exactly once and a failed one leaves nothing
// behind. Running it again is a no-op, and versions recorded but absent from
// the plan (a newer build's) are left alone. Errors are not prefixed with
// the caller's name: wrap them.
func Apply(ctx context.Context, db DB, p Plan) (Result, error) {
	if p.Schema == "" || p.Table == "" || p.LockPurpose == "" {
		return Result{}, errors.New("pgmigrate: a plan needs a schema, a table and a lock purpose")
	}
	var res Result
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		res = Result{}
		done, err := prepare(ctx, tx, p)
		if err != nil {
			return err
		}
		table := pgx.Identifier{p.Table}.Sanitize()
		for _, m := range p.Migrations {
			if done[m.Version] {
				continue
			}
			// No arguments: pgx sends it over the simple protocol, which
			// runs a file of several statements.
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("%s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO `+table+` (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return fmt.Errorf("%s: record: %w", m.Name, err)
			}
			res.Applied = append(res.Applied, m.Name)
			res.Created = res.Created || m.Version == 1
		}
		if res.Created && p.OnCreate != nil {
			return p.OnCreate(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// prepare takes the lock, creates the schema and the table, and returns
// the versions the table records.
func prepare(ctx context.Context, tx pgx.Tx, p Plan) (map[int]bool, error) {
	// Taken before CREATE SCHEMA: two processes creating it at once would
	// otherwise fail on pg_namespace's unique index.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, LockKey(p.LockPurpose, p.Schema)); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	schema := pgx.Identifier{p.Schema}.Sanitize()
	if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+schema); err != nil {
		return nil, fmt.Errorf("create schema: %w", err)
	}
	if _, err := tx.Exec(ctx, `SET LOCAL search_path TO `+schema); err != nil {
		return nil, fmt.Errorf("search_path: %w", err)
	}
	table := pgx.Identifier{p.Table}.Sanitize()
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (
		version    integer     PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("create %s: %w", p.Table, err)
	}
	rows, err := tx.Query(ctx, `SELECT version FROM `+table)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p.Table, err)
	}
	have, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p.Table, err)
	}
	done := make(map[int]bool, len(have))
	for _, v := range have {
		done[int(v)] = true
	}
	return done, nil
}

// LockKey is the advisory lock of purpose's migrations of schema. Changing
// how it is computed would let an older build migrate at the same time.
func LockKey(purpose, schema string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(purpose + "\x00" + schema))
	return int64(h.Sum64()) //nolint:gosec // a lock key: wrapping is fine
}
