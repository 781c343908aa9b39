package projections

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
)

// schemaVersion is stored in PRAGMA user_version. The read model is derived
// data: a file of another version is emptied and rebuilt from position 0, so
// a schema change never needs a migration. Version 2 added amphorae.
const schemaVersion = 2

// resourceTables all have the same columns: the ones list queries filter or
// sort on without parsing JSON, plus doc, the rendered view served as is.
// loadbalancer_id is on every table so a graph's rows can be replaced at once.
var resourceTables = []string{"load_balancers", "listeners", "pools", "members", "health_monitors"}

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

func schemaStatements() []string {
	var stmts []string
	for _, t := range resourceTables {
		stmts = append(stmts,
			`CREATE TABLE IF NOT EXISTS `+t+` `+resourceColumns,
			// Octavia appends created_at and id ASCENDING to any sort, so a
			// descending key needs an index whose tail is descending (read
			// backwards). These serve the default order, sort=created_at:desc
			// and sort=name[:desc], for all projects and for one.
			`CREATE INDEX IF NOT EXISTS `+t+`_created ON `+t+` (created_at, id)`,
			`CREATE INDEX IF NOT EXISTS `+t+`_created_rev ON `+t+` (created_at, id DESC)`,
			`CREATE INDEX IF NOT EXISTS `+t+`_project_created ON `+t+` (project_id, created_at, id)`,
			`CREATE INDEX IF NOT EXISTS `+t+`_project_created_rev ON `+t+` (project_id, created_at, id DESC)`,
			`CREATE INDEX IF NOT EXISTS `+t+`_name ON `+t+` (name, created_at, id)`,
			`CREATE INDEX IF NOT EXISTS `+t+`_name_rev ON `+t+` (name, created_at DESC, id DESC)`,
			`CREATE INDEX IF NOT EXISTS `+t+`_lb ON `+t+` (loadbalancer_id)`,
		)
	}
	stmts = append(stmts,
		`CREATE INDEX IF NOT EXISTS load_balancers_status ON load_balancers (provisioning_status)`,
		`CREATE INDEX IF NOT EXISTS members_pool_created ON members (pool_id, created_at, id)`,
		`CREATE INDEX IF NOT EXISTS health_monitors_pool ON health_monitors (pool_id)`,
		`CREATE TABLE IF NOT EXISTS status_trees (
			loadbalancer_id TEXT PRIMARY KEY,
			doc             TEXT NOT NULL
		)`,
		// Amphorae (issue #3): the admin API lists them; the health manager
		// finds an amphora's load balancer and driver here.
		`CREATE TABLE IF NOT EXISTS amphorae (
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
		)`,
		`CREATE INDEX IF NOT EXISTS amphorae_created ON amphorae (created_at, id)`,
		`CREATE INDEX IF NOT EXISTS amphorae_created_rev ON amphorae (created_at, id DESC)`,
		`CREATE INDEX IF NOT EXISTS amphorae_lb ON amphorae (loadbalancer_id)`,
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
	)
	return stmts
}

// migrate creates the schema, first dropping every table of a file written
// by another schema version (the projector then replays from position 0).
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
		// stats are not derived from events: keep them across a rebuild.
		for _, t := range append(slices.Clone(resourceTables), "status_trees", "amphorae", "checkpoint") {
			if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+t); err != nil {
				return fmt.Errorf("projections: drop %s: %w", t, err)
			}
		}
	}
	for _, s := range schemaStatements() {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("projections: create schema: %w", err)
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
