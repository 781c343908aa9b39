package projections

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// schemaVersion is stored in PRAGMA user_version. The read model is derived
// data: a file of another version is emptied and rebuilt from position 0, so
// a schema change never needs a migration. Version 2 added amphorae;
// version 3 put each projection's tables in generations behind views
// (docs/replay.md).
const schemaVersion = 3

// resourceTables all have the same columns: the ones list queries filter or
// sort on without parsing JSON, plus doc, the rendered view served as is.
// loadbalancer_id is on every table so a graph's rows can be replaced at once.
var resourceTables = []string{"load_balancers", "listeners", "pools", "members", "health_monitors"}

// keptTables are not derived from events (the health manager writes them):
// a schema change or a replay never drops them.
var keptTables = []string{"stats", "amphora_stats"}

const resourceColumns = `(
	id                  TEXT PRIMARY KEY,
	project_id          TEXT NOT NULL,
	loadbalancer_id     TEXT NOT NULL,
	pool_id             TEXT NOT NULL DEFAULT '',
	name                TEXT NOT NULL DEFAULT '',
	provisioning_status TEXT NOT NULL,
	operating_status    TEXT NOT NULL,
	created_at          TEXT NOT NULL,
	updated_at          TEXT,
	tags                TEXT NOT NULL DEFAULT '[]', -- JSON array: tag filters parse this, not doc
	doc                 TEXT NOT NULL
)`

// Amphorae (issue #3): the admin API lists them; the health manager finds an
// amphora's load balancer and driver here.
const amphoraTableColumns = `(
	id              TEXT PRIMARY KEY,
	project_id      TEXT NOT NULL, -- the load balancer's (Octavia's project_id filter)
	loadbalancer_id TEXT NOT NULL,
	compute_id      TEXT NOT NULL DEFAULT '',
	role            TEXT,
	status          TEXT NOT NULL,
	lb_network_ip   TEXT,
	compute_driver  TEXT NOT NULL DEFAULT '',
	network_driver  TEXT NOT NULL DEFAULT '',
	amphora_driver  TEXT NOT NULL DEFAULT '',
	created_at      TEXT NOT NULL,
	updated_at      TEXT,
	doc             TEXT NOT NULL
)`

const statusColumns = `(
	loadbalancer_id TEXT PRIMARY KEY,
	doc             TEXT NOT NULL
)`

// globalStatements create what is not in generations.
func globalStatements() []string {
	return []string{
		// The generation of each projection the views point at.
		`CREATE TABLE IF NOT EXISTS generations (
			projection TEXT PRIMARY KEY,
			generation BIGINT NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS checkpoint (
			name     TEXT PRIMARY KEY,
			position BIGINT NOT NULL
		)`,
		// Written by the health manager (issue #3), not by the projector.
		`CREATE TABLE IF NOT EXISTS stats (
			kind               TEXT NOT NULL,
			id                 TEXT NOT NULL,
			bytes_in           BIGINT NOT NULL DEFAULT 0,
			bytes_out          BIGINT NOT NULL DEFAULT 0,
			active_connections BIGINT NOT NULL DEFAULT 0,
			total_connections  BIGINT NOT NULL DEFAULT 0,
			request_errors     BIGINT NOT NULL DEFAULT 0,
			PRIMARY KEY (kind, id)
		)`,
		// Per amphora and listener (Octavia's listener_statistics rows), for
		// GET /v2/octavia/amphorae/{id}/stats. Written by the health manager.
		`CREATE TABLE IF NOT EXISTS amphora_stats (
			amphora_id         TEXT NOT NULL,
			listener_id        TEXT NOT NULL,
			bytes_in           BIGINT NOT NULL DEFAULT 0,
			bytes_out          BIGINT NOT NULL DEFAULT 0,
			active_connections BIGINT NOT NULL DEFAULT 0,
			total_connections  BIGINT NOT NULL DEFAULT 0,
			request_errors     BIGINT NOT NULL DEFAULT 0,
			PRIMARY KEY (amphora_id, listener_id)
		)`,
	}
}

// createTable is the CREATE TABLE of t in generation gen.
func createTable(t table, gen int64) string {
	cols := resourceColumns
	switch t {
	case statusTable:
		cols = statusColumns
	case tAmphorae:
		cols = amphoraTableColumns
	}
	return `CREATE TABLE IF NOT EXISTS ` + physical(t, gen) + ` ` + cols
}

// indexStatements are the secondary indexes of t in generation gen. A
// replay creates them after its bulk load (cheaper than maintaining them
// row by row).
func indexStatements(t table, gen int64) []string {
	p := physical(t, gen)
	idx := func(suffix, cols string) string {
		return `CREATE INDEX IF NOT EXISTS ` + p + `_` + suffix + ` ON ` + p + ` ` + cols
	}
	switch t {
	case statusTable:
		return nil
	case tAmphorae:
		return []string{
			idx("created", "(created_at, id)"),
			idx("created_rev", "(created_at, id DESC)"),
			idx("lb", "(loadbalancer_id)"),
		}
	}
	// Octavia appends created_at and id ASCENDING to any sort, so a
	// descending key needs an index whose tail is descending (read
	// backwards). These serve the default order, sort=created_at:desc and
	// sort=name[:desc], for all projects and for one.
	stmts := []string{
		idx("created", "(created_at, id)"),
		idx("created_rev", "(created_at, id DESC)"),
		idx("project_created", "(project_id, created_at, id)"),
		idx("project_created_rev", "(project_id, created_at, id DESC)"),
		idx("name", "(name, created_at, id)"),
		idx("name_rev", "(name, created_at DESC, id DESC)"),
		idx("lb", "(loadbalancer_id)"),
	}
	switch t {
	case tLoadBalancers:
		stmts = append(stmts, idx("status", "(provisioning_status)"))
	case tMembers:
		stmts = append(stmts, idx("pool_created", "(pool_id, created_at, id)"))
	case tHealthMonitors:
		stmts = append(stmts, idx("pool", "(pool_id)"))
	}
	return stmts
}

// viewStatements point t's view (the name every query reads) at generation
// gen.
func viewStatements(t table, gen int64) []string {
	return []string{
		`DROP VIEW IF EXISTS ` + t.String(),
		`CREATE VIEW ` + t.String() + ` AS SELECT * FROM ` + physical(t, gen),
	}
}

// execer is a db or a tx of the read model (queries with ? placeholders).
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func execAll(ctx context.Context, db execer, stmts []string) error {
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", firstLine(s), err)
		}
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// migrate creates the schema, first dropping every derived table and view
// of a read model written by another schema version (the projector then
// replays from position 0); stats are kept. Concurrent migrations of one
// PostgreSQL read model (several processes starting) are serialised by a
// transaction-scoped advisory lock.
func migrate(ctx context.Context, c db) error {
	d := c.d
	if d.numbered {
		if _, err := c.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+quoteIdent(d.schema)); err != nil {
			return fmt.Errorf("projections: create schema %s: %w", d.schema, err)
		}
	}
	t, err := c.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("projections: migrate: %w", err)
	}
	defer func() { _ = t.Rollback() }()
	if d.numbered {
		if _, err := t.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, advisoryKey("migrate", d.schema)); err != nil {
			return fmt.Errorf("projections: migrate: lock: %w", err)
		}
	}
	v, err := d.readVersion(ctx, t)
	if err != nil {
		return err
	}
	if v != 0 && v != schemaVersion {
		if err := dropDerived(ctx, t); err != nil {
			return err
		}
	}
	for _, stmt := range globalStatements() {
		if _, err := t.ExecContext(ctx, d.ddl(stmt)); err != nil {
			return fmt.Errorf("projections: create schema: %s: %w", firstLine(stmt), err)
		}
	}
	// The projector locks this row in each write transaction (fencing, see
	// Projector.applyOnce): it must exist.
	if _, err := t.ExecContext(ctx, `INSERT INTO checkpoint (name, position) VALUES (?, 0)
		ON CONFLICT (name) DO NOTHING`, checkpointName); err != nil {
		return fmt.Errorf("projections: create schema: %w", err)
	}
	gens, err := readGenerations(ctx, t)
	if err != nil {
		return err
	}
	for i, name := range projectionNames {
		if gens[i] == 0 {
			gens[i] = 1
			if _, err := t.ExecContext(ctx, `INSERT INTO generations (projection, generation) VALUES (?, 1)`, name); err != nil {
				return fmt.Errorf("projections: create schema: %w", err)
			}
		}
		for _, tb := range tablesOf(i) {
			stmts := append([]string{d.createTable(tb, gens[i])}, indexStatements(tb, gens[i])...)
			stmts = append(stmts, d.createViewIfMissing(tb, gens[i]))
			if err := execAll(ctx, t, stmts); err != nil {
				return fmt.Errorf("projections: create schema: %w", err)
			}
		}
	}
	if err := d.writeVersion(ctx, t, schemaVersion); err != nil {
		return err
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("projections: migrate: %w", err)
	}
	return nil
}

// dropDerived drops every table and view but the kept ones.
func dropDerived(ctx context.Context, t tx) error {
	rows, err := t.QueryContext(ctx, t.d.listObjects())
	if err != nil {
		return fmt.Errorf("projections: list tables: %w", err)
	}
	var views, tables []string
	for rows.Next() {
		var typ, name string
		if err := rows.Scan(&typ, &name); err != nil {
			rows.Close()
			return fmt.Errorf("projections: list tables: %w", err)
		}
		switch {
		case isKept(name) || name == "schema_version":
		case typ == "view":
			views = append(views, `DROP VIEW IF EXISTS `+quoteIdent(name))
		default:
			tables = append(tables, `DROP TABLE IF EXISTS `+quoteIdent(name))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("projections: list tables: %w", err)
	}
	// Views first: PostgreSQL refuses to drop a table a view reads.
	if err := execAll(ctx, t, append(views, tables...)); err != nil {
		return fmt.Errorf("projections: drop: %w", err)
	}
	return nil
}

func isKept(name string) bool {
	for _, k := range keptTables {
		if name == k {
			return true
		}
	}
	return false
}

// quoteIdent quotes an SQL identifier (both engines: double quotes).
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
