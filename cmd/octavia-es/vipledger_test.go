package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/octavia-es/octavia-es/adapters/eventstore/postgres"
	"github.com/octavia-es/octavia-es/adapters/network"
	"github.com/octavia-es/octavia-es/adapters/pgtest"
	"github.com/octavia-es/octavia-es/events"
)

// pgSchema returns the test PostgreSQL's DSN (pgtest.Require: skipped
// without one, except under CI=true) and a throwaway schema name, dropped at
// cleanup with its read model's (<schema>_read_model).
func pgSchema(t *testing.T) (dsn, schema string) {
	t.Helper()
	dsn = pgtest.Require(t)
	return dsn, pgtest.Schema(t, dsn, "vip_ledger_", "_read_model")
}

func migrate(t *testing.T, dsn, schema string) string {
	t.Helper()
	var out, errs strings.Builder
	if code := run(context.Background(), []string{"migrate", "--postgres-dsn", dsn, "--postgres-schema", schema, "--read-model-schema", "none"}, nil, &out, &errs); code != 0 {
		t.Fatalf("migrate: exit %d: %s", code, errs.String())
	}
	return out.String()
}

func postgresConfig(dsn, schema, networkDriver string) Config {
	cfg := defaultConfig()
	cfg.Store.Driver, cfg.Store.PostgresDSN, cfg.Store.PostgresSchema = storePostgres, dsn, schema
	cfg.Drivers.Compute, cfg.Drivers.Network, cfg.Drivers.Amphora = "noop", networkDriver, "noop"
	return cfg
}

// TestSharedVIPLedger: with the PostgreSQL store, the network drivers of
// two processes hold VIPs in the one ledger of the store's schema; the
// processes refuse to start before migrate.
func TestSharedVIPLedger(t *testing.T) {
	dsn := pgtest.Require(t)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	for _, driver := range []string{"noop", "local"} {
		t.Run(driver, func(t *testing.T) {
			cfg := postgresConfig(dsn, pgtest.Schema(t, dsn, "vip_ledger_"+driver+"_"), driver)
			if _, err := openDrivers(ctx, cfg, log); err == nil || !strings.Contains(err.Error(), "octavia-es migrate") {
				t.Fatalf("openDrivers before migrate: %v, want one naming octavia-es migrate", err)
			}
			migrate(t, dsn, cfg.Store.PostgresSchema)
			var procs [2]drivers
			for i := range procs {
				d, err := openDrivers(ctx, cfg, log)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(d.close)
				if !d.sharedVIPs {
					t.Fatal("sharedVIPs false with the PostgreSQL store")
				}
				procs[i] = d
			}
			seen := map[string]string{}
			for i := range 10 {
				lb := driver + "-lb-" + string(rune('a'+i))
				vip, err := procs[i%2].network.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: lb})
				if err != nil {
					t.Fatal(err)
				}
				if other, dup := seen[vip.Address]; dup {
					t.Fatalf("%s and %s both got %s", other, lb, vip.Address)
				}
				seen[vip.Address] = lb
			}
		})
	}
	// SQLite: the driver's own in-memory ledger, re-populated at start.
	cfg := defaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Drivers.Compute, cfg.Drivers.Network, cfg.Drivers.Amphora = "noop", "noop", "noop"
	d, err := openDrivers(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	if d.sharedVIPs {
		t.Fatal("sharedVIPs true with the SQLite store")
	}
}

// TestMigrateSeedsVIPLedger: a deployment whose event store predates the
// ledger (VIPs held by per-process allocators) gets a ledger holding the
// VIPs the events hold: allocated and not released.
func TestMigrateSeedsVIPLedger(t *testing.T) {
	dsn, schema := pgSchema(t)
	ctx := context.Background()
	store, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema), postgres.WithMigrate(),
		postgres.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	reg := events.NewRegistry()
	const subnet, netID = "a1f0c9d2-7b3e-4c55-9a1d-1e2f3a4b5c6d", "b2e1d0c3-8c4f-4d66-8b2e-2f3a4b5c6d7e"
	record := func(lb string, evs ...events.Event) {
		t.Helper()
		var envs []events.Envelope
		for _, e := range evs {
			env, err := reg.Encode("loadbalancer-"+lb, e, events.Metadata{})
			if err != nil {
				t.Fatal(err)
			}
			envs = append(envs, env)
		}
		if _, err := store.Append(ctx, "loadbalancer-"+lb, -1, envs); err != nil {
			t.Fatal(err)
		}
	}
	alloc := func(lb, addr string) events.VipAllocated {
		return events.VipAllocated{LoadBalancerID: lb, VipAddress: addr, VipPortID: "port-" + lb, VipSubnetID: subnet, VipNetworkID: netID}
	}
	record("kept", alloc("kept", "127.100.0.2"))
	record("gone", alloc("gone", "127.100.0.3"), events.VipReleased{LoadBalancerID: "gone", VipPortID: "port-gone"})
	record("again", alloc("again", "127.100.0.4"), events.VipReleased{LoadBalancerID: "again", VipPortID: "port-again"}, alloc("again", "127.100.0.5"))
	record("twin", alloc("twin", "127.100.0.2")) // two APIs handed out .2 before the ledger

	out := migrate(t, dsn, schema)
	if !strings.Contains(out, "with the 2 VIPs the events hold") {
		t.Fatalf("migrate output %q: want 2 VIPs seeded", out)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT loadbalancer_id || '=' || host(address) FROM "+pgx.Identifier{schema, "vip_allocations"}.Sanitize()+" ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"again=127.100.0.5", "kept=127.100.0.2"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("ledger holds %v, want %v", got, want)
	}
	if again := migrate(t, dsn, schema); strings.Contains(again, "created") {
		t.Fatalf("second migrate %q: created the ledger again", again)
	}
}
