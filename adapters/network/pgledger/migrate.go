package pgledger

import (
	"context"
	"embed"
	"fmt"
	"net/netip"

	"github.com/jackc/pgx/v5"

	"github.com/octavia-es/octavia-es/adapters/internal/pgmigrate"
	"github.com/octavia-es/octavia-es/adapters/network"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationsTable records the migrations applied. It is not the event
// store's schema_migrations: the ledger may share the event store's schema
// (octavia-es puts it there), and the two number their files apart.
const migrationsTable = "vip_ledger_migrations"

// migrateLockPurpose keys the advisory lock of Migrate with the schema name
// (not the event store's lock: each runs its own transaction). Never change
// it, or an older build could migrate at once.
const migrateLockPurpose = "octavia-es/network/pgledger/migrate"

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
	migs, err := pgmigrate.Load(migrationFiles, "migrations")
	if err != nil {
		return res, fmt.Errorf("network/pgledger: migrate: %w", err)
	}
	plan := pgmigrate.Plan{Schema: l.schema, Table: migrationsTable, LockPurpose: migrateLockPurpose, Migrations: migs}
	if seed != nil {
		plan.OnCreate = func(ctx context.Context, tx pgx.Tx) error {
			holds, err := seed(ctx)
			if err != nil {
				return fmt.Errorf("seed: %w", err)
			}
			return insertSeed(ctx, tx, holds, &res)
		}
	}
	applied, err := pgmigrate.Apply(ctx, l.pool, plan)
	if err != nil {
		return MigrateResult{}, fmt.Errorf("network/pgledger: migrate schema %s: %w", l.schema, err)
	}
	res.Applied, res.Created = applied.Applied, applied.Created
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
