package pgledger

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"
	"net/netip"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/octavia-es/octavia-es/adapters/network"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationsTable records the migrations applied. It is not the event
// store's schema_migrations: the ledger may share the event store's schema
// (octavia-es puts it there), and the two number their files apart.
const migrationsTable = "vip_ledger_migrations"

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

// Hold is a VIP a load balancer held before the ledger existed.
type Hold struct {
	LoadBalancerID string
	VIP            network.VIP
}

// Seed returns the VIPs held before the ledger existed (an upgraded
// deployment: the events' VipAllocated without a later VipReleased).
type Seed func(ctx context.Context) ([]Hold, error)

// MigrateResult says what Migrate did.
type MigrateResult struct {
	Applied []string // migrations applied by this run, in order
	Created bool     // this run created the table (and asked the seed)
	Seeded  int      // holds of the seed inserted
	// Skipped are holds of the seed not inserted: incomplete, or their
	// address or port held by an earlier hold of the seed (two load
	// balancers given one address by per-process allocators before the
	// ledger existed).
	Skipped []Hold
}

// Migrate creates the schema if needed and applies the migrations it lacks,
// all in one transaction under an advisory lock keyed on the schema name, so
// processes migrating at once apply each step exactly once and a failed step
// leaves nothing behind; running it again is a no-op (as the event store's
// Migrate). When this run creates the table, seed (if not nil) is asked for
// the VIPs already held and they are inserted in the same transaction: no
// process sees the new table without them.
func (l *Ledger) Migrate(ctx context.Context, seed Seed) (MigrateResult, error) {
	var res MigrateResult
	migs, err := loadMigrations(migrationFiles)
	if err != nil {
		return res, fmt.Errorf("network/pgledger: migrate: %w", err)
	}
	schema := pgx.Identifier{l.schema}.Sanitize()
	err = pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		res = MigrateResult{} // BeginFunc runs this once, but keep it honest
		// Taken before CREATE SCHEMA: two processes creating it at once
		// would otherwise fail on pg_namespace's unique index.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLockKey(l.schema)); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+schema); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
		if _, err := tx.Exec(ctx, `SET LOCAL search_path TO `+schema); err != nil {
			return fmt.Errorf("search_path: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+migrationsTable+` (
			version    integer     PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("create %s: %w", migrationsTable, err)
		}
		rows, err := tx.Query(ctx, `SELECT version FROM `+migrationsTable)
		if err != nil {
			return fmt.Errorf("read %s: %w", migrationsTable, err)
		}
		have, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return fmt.Errorf("read %s: %w", migrationsTable, err)
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
			if _, err := tx.Exec(ctx, `INSERT INTO `+migrationsTable+` (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
				return fmt.Errorf("%s: record: %w", m.name, err)
			}
			res.Applied = append(res.Applied, m.name)
		}
		if res.Created = !done[1]; seed == nil || !res.Created {
			return nil
		}
		holds, err := seed(ctx)
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		return insertSeed(ctx, tx, holds, &res)
	})
	if err != nil {
		return MigrateResult{}, fmt.Errorf("network/pgledger: migrate schema %s: %w", l.schema, err)
	}
	for _, name := range res.Applied {
		l.log.InfoContext(ctx, "network/pgledger: applied migration", "schema", l.schema, "migration", name)
	}
	if res.Seeded > 0 || len(res.Skipped) > 0 {
		l.log.InfoContext(ctx, "network/pgledger: seeded the ledger with the VIPs held", "schema", l.schema,
			"seeded", res.Seeded, "skipped", len(res.Skipped))
	}
	return res, nil
}

func insertSeed(ctx context.Context, tx pgx.Tx, holds []Hold, res *MigrateResult) error {
	for _, h := range holds {
		addr, err := netip.ParseAddr(h.VIP.Address)
		if err != nil || h.LoadBalancerID == "" || h.VIP.SubnetID == "" || h.VIP.PortID == "" {
			res.Skipped = append(res.Skipped, h)
			continue
		}
		tag, err := tx.Exec(ctx, `INSERT INTO vip_allocations (loadbalancer_id, subnet_id, address, port_id, network_id)
			VALUES ($1, $2, $3::inet, $4, $5) ON CONFLICT DO NOTHING`,
			h.LoadBalancerID, h.VIP.SubnetID, addr.String(), h.VIP.PortID, h.VIP.NetworkID)
		if err != nil {
			return fmt.Errorf("seed %s: %w", h.LoadBalancerID, err)
		}
		if tag.RowsAffected() == 1 {
			res.Seeded++
		} else {
			res.Skipped = append(res.Skipped, h)
		}
	}
	return nil
}

// migrateLockKey is the advisory lock of one schema's ledger migrations
// (not the event store's: each runs its own transaction).
func migrateLockKey(schema string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("octavia-es/network/pgledger/migrate\x00" + schema))
	return int64(h.Sum64()) //nolint:gosec // a lock key: wrapping is fine
}
