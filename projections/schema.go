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
			generation INTEGER NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS checkpoint (
			name     TEXT PRIMARY KEY,
			position INTEGER NOT NULL
		)`,
		// Written by the health manager (issue #3), not by the projector.
		`CREATE TABLE IF NOT EXISTS stats (
			kind               TEXT NOT NULL,
			id                 TEXT NOT NULL,
			bytes_in           INTEGER NOT NULL DEFAULT 0,
			bytes_out          INTEGER NOT NULL DEFAULT 0,
			active_connections INTEGER NOT NULL DEFAULT 0,
			total_connections  INTEGER NOT NULL DEFAULT 0,
			request_errors     INTEGER NOT NULL DEFAULT 0,
			PRIMARY KEY (kind, id)
		)`,
		// Per amphora and listener (Octavia's listener_statistics rows), for
		// GET /v2/octavia/amphorae/{id}/stats. Written by the health manager.
		`CREATE TABLE IF NOT EXISTS amphora_stats (
			amphora_id         TEXT NOT NULL,
			listener_id        TEXT NOT NULL,
			bytes_in           INTEGER NOT NULL DEFAULT 0,
			bytes_out          INTEGER NOT NULL DEFAULT 0,
			active_connections INTEGER NOT NULL DEFAULT 0,
			total_connections  INTEGER NOT NULL DEFAULT 0,
			request_errors     INTEGER NOT NULL DEFAULT 0,
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

// execer is a *sql.Tx or *sql.DB.
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
// of a file written by another schema version (the projector then replays
// from position 0); stats are kept.
func migrate(ctx context.Context, db *sql.DB) error {
	var v int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return fmt.Errorf("projections: read schema version: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("projections: migrate: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if v != 0 && v != schemaVersion {
		if err := dropDerived(ctx, tx); err != nil {
			return err
		}
	}
	if err := execAll(ctx, tx, globalStatements()); err != nil {
		return fmt.Errorf("projections: create schema: %w", err)
	}
	gens, err := readGenerations(ctx, tx)
	if err != nil {
		return err
	}
	for i, name := range projectionNames {
		if gens[i] == 0 {
			gens[i] = 1
			if _, err := tx.ExecContext(ctx, `INSERT INTO generations (projection, generation) VALUES (?, 1)`, name); err != nil {
				return fmt.Errorf("projections: create schema: %w", err)
			}
		}
		for _, t := range tablesOf(i) {
			stmts := append([]string{createTable(t, gens[i])}, indexStatements(t, gens[i])...)
			stmts = append(stmts, `CREATE VIEW IF NOT EXISTS `+t.String()+` AS SELECT * FROM `+physical(t, gens[i]))
			if err := execAll(ctx, tx, stmts); err != nil {
				return fmt.Errorf("projections: create schema: %w", err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion)); err != nil {
		return fmt.Errorf("projections: set schema version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("projections: migrate: %w", err)
	}
	return nil
}

// dropDerived drops every table and view but the kept ones.
func dropDerived(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT type, name FROM sqlite_master
		WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
	if err != nil {
		return fmt.Errorf("projections: list tables: %w", err)
	}
	var drops []string
	for rows.Next() {
		var typ, name string
		if err := rows.Scan(&typ, &name); err != nil {
			rows.Close()
			return fmt.Errorf("projections: list tables: %w", err)
		}
		if !isKept(name) {
			drops = append(drops, `DROP `+strings.ToUpper(typ)+` IF EXISTS "`+name+`"`)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("projections: list tables: %w", err)
	}
	if err := execAll(ctx, tx, drops); err != nil {
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
