package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/adapters/network"
	"github.com/octavia-es/octavia-es/adapters/network/pgledger"
	"github.com/octavia-es/octavia-es/events"
)

// The VIP ledger follows the event store: with store.driver postgres the
// network driver holds its allocations in pgledger's vip_allocations table
// in the store's database and schema, which every process sharing that
// store shares, so any number of API processes (and workers) allocate VIPs
// without handing one address out twice. No key of its own: a ledger apart
// from the store could only be a misconfiguration, two processes that share
// the load balancers but not their addresses. With SQLite (one process
// allocating) the driver keeps its in-memory ledger, re-populated at start.

// vipLedgerMaxConns: claims are single short statements; the API's and the
// sagas' allocations share a few connections.
const vipLedgerMaxConns = 4

// openVIPLedger returns the shared ledger of cfg's store, checked to be
// migrated, or nil when the store is SQLite (the drivers' in-memory ledger).
func openVIPLedger(ctx context.Context, cfg Config, log *slog.Logger) (*pgledger.Ledger, error) {
	if cfg.Store.Driver != storePostgres {
		return nil, nil
	}
	l, err := pgledger.Open(ctx, cfg.Store.PostgresDSN, cfg.Store.PostgresSchema,
		pgledger.WithMaxConns(vipLedgerMaxConns), pgledger.WithLogger(log))
	if err != nil {
		return nil, fmt.Errorf("VIP ledger: %w", err)
	}
	if err := l.Check(ctx); err != nil {
		l.Close()
		if errors.Is(err, pgledger.ErrNotMigrated) {
			return nil, fmt.Errorf("VIP ledger in PostgreSQL schema %q is not migrated: run `octavia-es migrate --postgres-dsn DSN --postgres-schema %s` first: %w",
				cfg.Store.PostgresSchema, cfg.Store.PostgresSchema, err)
		}
		return nil, fmt.Errorf("VIP ledger: %w", err)
	}
	return l, nil
}

// heldVIPs seeds a new ledger from the events: the VIP of every load
// balancer whose last VIP event is a VipAllocated (a deployment upgraded
// from per-process ledgers keeps its addresses).
func heldVIPs(store eventstore.Store) pgledger.Seed {
	return func(ctx context.Context) ([]pgledger.Hold, error) {
		reg := events.NewRegistry()
		held := map[string]network.VIP{}
		seen := map[string]bool{}
		var order []string // first allocation order: the seed's, so a conflict skips the later holder
		const page = 1000
		for after := int64(0); ; {
			envs, err := store.ReadAll(ctx, after, page)
			if err != nil {
				return nil, fmt.Errorf("read events after %d: %w", after, err)
			}
			for _, env := range envs {
				after = env.Position
				if env.Type != (events.VipAllocated{}).EventType() && env.Type != (events.VipReleased{}).EventType() {
					continue
				}
				ev, err := reg.Decode(env)
				if err != nil {
					return nil, err
				}
				switch e := ev.(type) {
				case events.VipAllocated:
					if !seen[e.LoadBalancerID] {
						seen[e.LoadBalancerID] = true
						order = append(order, e.LoadBalancerID)
					}
					held[e.LoadBalancerID] = network.VIP{Address: e.VipAddress, PortID: e.VipPortID, SubnetID: e.VipSubnetID, NetworkID: e.VipNetworkID}
				case events.VipReleased:
					if vip, ok := held[e.LoadBalancerID]; ok && (e.VipPortID == "" || e.VipPortID == vip.PortID) {
						delete(held, e.LoadBalancerID)
					}
				}
			}
			if len(envs) < page {
				break
			}
		}
		holds := make([]pgledger.Hold, 0, len(held))
		for _, id := range order {
			if vip, ok := held[id]; ok {
				holds = append(holds, pgledger.Hold{LoadBalancerID: id, VIP: vip})
			}
		}
		return holds, nil
	}
}

// migrateVIPLedger creates or upgrades the VIP ledger in the event store's
// database and schema; when it creates the table it seeds it from store's
// events in the same transaction.
func migrateVIPLedger(ctx context.Context, dsn, schema string, store eventstore.Store, stdout, stderr io.Writer) error {
	l, err := pgledger.Open(ctx, dsn, schema, pgledger.WithLogger(slog.New(slog.NewTextHandler(stderr, nil))))
	if err != nil {
		return err
	}
	defer l.Close()
	res, err := l.Migrate(ctx, heldVIPs(store))
	if err != nil {
		return err
	}
	for _, h := range res.Skipped {
		fmt.Fprintf(stderr, "octavia-es migrate: VIP %s of load balancer %s not put in the ledger: its address or port is held by another load balancer\n",
			h.VIP.Address, h.LoadBalancerID)
	}
	if res.Created {
		fmt.Fprintf(stdout, "VIP ledger created in schema %q with the %d VIPs the events hold\n", schema, res.Seeded)
	}
	fmt.Fprintf(stdout, "VIP ledger in schema %q is up to date\n", schema)
	return nil
}
