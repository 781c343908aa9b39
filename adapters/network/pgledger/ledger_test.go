package pgledger_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/octavia-es/octavia-es/adapters/network"
	"github.com/octavia-es/octavia-es/adapters/network/local"
	"github.com/octavia-es/octavia-es/adapters/network/networktest"
	"github.com/octavia-es/octavia-es/adapters/network/noop"
	"github.com/octavia-es/octavia-es/adapters/network/pgledger"
	"github.com/octavia-es/octavia-es/adapters/pgtest"
)

// open opens a ledger on schema, closed at cleanup. Every test works in a
// schema of its own (pgtest.Schema, prefix vip_test_).
func open(t testing.TB, dsn, schema string) *pgledger.Ledger {
	t.Helper()
	l, err := pgledger.Open(context.Background(), dsn, schema)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(l.Close)
	return l
}

// fresh returns a migrated ledger in a new schema.
func fresh(t testing.TB) (l *pgledger.Ledger, dsn, schema string) {
	t.Helper()
	dsn = pgtest.Require(t)
	schema = pgtest.Schema(t, dsn, "vip_test_")
	l = open(t, dsn, schema)
	if _, err := l.Migrate(context.Background(), nil); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return l, dsn, schema
}

// drivers builds a network driver of each kind over a ledger.
var drivers = []struct {
	name string
	new  func(t *testing.T, l *pgledger.Ledger) network.Driver
}{
	{"noop", func(t *testing.T, l *pgledger.Ledger) network.Driver {
		d, err := noop.New(noop.Config{Ledger: l})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}},
	{"local", func(t *testing.T, l *pgledger.Ledger) network.Driver {
		d, err := local.New(local.Config{Ledger: l}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}},
}

func TestConformance(t *testing.T) {
	for _, dr := range drivers {
		t.Run(dr.name, func(t *testing.T) {
			networktest.Run(t, func(t *testing.T) network.Driver {
				l, _, _ := fresh(t)
				return dr.new(t, l)
			})
		})
	}
}

// TestShared: two drivers, each with a ledger (a pool) of its own on the
// same schema, as two API processes of the scaled deployment.
func TestShared(t *testing.T) {
	for _, dr := range drivers {
		t.Run(dr.name, func(t *testing.T) {
			networktest.RunShared(t, func(t *testing.T) (network.Driver, network.Driver) {
				first, dsn, schema := fresh(t)
				return dr.new(t, first), dr.new(t, open(t, dsn, schema))
			})
		})
	}
}

func TestNotMigrated(t *testing.T) {
	dsn := pgtest.Require(t)
	l := open(t, dsn, pgtest.Schema(t, dsn, "vip_test_"))
	ctx := context.Background()
	if err := l.Check(ctx); !errors.Is(err, pgledger.ErrNotMigrated) {
		t.Fatalf("Check: %v, want ErrNotMigrated", err)
	}
	d, err := noop.New(noop.Config{Ledger: l})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "lb-1"}); !errors.Is(err, pgledger.ErrNotMigrated) {
		t.Fatalf("AllocateVIP: %v, want ErrNotMigrated", err)
	}
	if _, err := l.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := l.Check(ctx); err != nil {
		t.Fatalf("Check after Migrate: %v", err)
	}
}

func TestOpenRefuses(t *testing.T) {
	tests := []struct{ name, dsn, schema string }{
		{"empty schema", pgtest.DefaultDSN, ""},
		{"long schema", pgtest.DefaultDSN, string(make([]byte, 64))},
		{"bad dsn", "postgres://%zz", "s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if l, err := pgledger.Open(context.Background(), tt.dsn, tt.schema); err == nil {
				l.Close()
				t.Fatal("Open accepted it")
			}
		})
	}
}

// TestMigrateConcurrentAndIdempotent: processes migrating at once apply the
// migration once; a later run applies nothing and seeds nothing.
func TestMigrateConcurrentAndIdempotent(t *testing.T) {
	dsn := pgtest.Require(t)
	schema := pgtest.Schema(t, dsn, "vip_test_")
	ctx := context.Background()
	results := make([]pgledger.MigrateResult, 4)
	errs := make([]error, len(results))
	var wg sync.WaitGroup
	for i := range results {
		l := open(t, dsn, schema)
		wg.Go(func() { results[i], errs[i] = l.Migrate(ctx, nil) })
	}
	wg.Wait()
	applied, created := 0, 0
	for i := range results {
		if errs[i] != nil {
			t.Fatalf("Migrate #%d: %v", i, errs[i])
		}
		applied += len(results[i].Applied)
		if results[i].Created {
			created++
		}
	}
	if applied != 1 || created != 1 {
		t.Fatalf("%d migrations applied across concurrent runs, want 1: %+v", applied, results)
	}
	// The records, as an older build wrote and reads them: version 1, once.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	var records string
	err = conn.QueryRow(ctx, `SELECT string_agg(version || ' ' || name, ', ' ORDER BY version) FROM `+
		pgx.Identifier{schema, "vip_ledger_migrations"}.Sanitize()).Scan(&records)
	if err != nil || records != "1 0001_vip_allocations" {
		t.Fatalf("vip_ledger_migrations holds %q, %v; want 1 0001_vip_allocations", records, err)
	}
	seeded := false
	res, err := open(t, dsn, schema).Migrate(ctx, func(context.Context) ([]pgledger.Hold, error) {
		seeded = true
		return nil, nil
	})
	if err != nil || len(res.Applied) != 0 || res.Created || seeded {
		t.Fatalf("Migrate again: %+v, %v, seed asked: %v; want a no-op", res, err, seeded)
	}
}

// TestSeed: the VIPs held before the ledger existed are in it when the
// table appears; a second hold of one address (or port) is skipped.
func TestSeed(t *testing.T) {
	dsn := pgtest.Require(t)
	l := open(t, dsn, pgtest.Schema(t, dsn, "vip_test_"))
	ctx := context.Background()
	vip := func(addr, port string) network.VIP {
		return network.VIP{Address: addr, PortID: port, SubnetID: noop.DefaultSubnetID, NetworkID: noop.DefaultNetworkID}
	}
	holds := []pgledger.Hold{
		{LoadBalancerID: "lb-a", VIP: vip("127.100.0.2", "port-a")},
		{LoadBalancerID: "lb-b", VIP: vip("127.100.0.3", "port-b")},
		{LoadBalancerID: "lb-c", VIP: vip("127.100.0.2", "port-c")}, // the address of lb-a
		{LoadBalancerID: "lb-d", VIP: vip("127.100.0.9", "port-b")}, // the port of lb-b
		{LoadBalancerID: "lb-e", VIP: vip("not-an-address", "port-e")},
	}
	res, err := l.Migrate(ctx, func(context.Context) ([]pgledger.Hold, error) { return holds, nil })
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.Seeded != 2 || len(res.Skipped) != 3 || len(res.Applied) != 1 {
		t.Fatalf("Migrate = %+v, want created, 1 applied, 2 seeded, 3 skipped", res)
	}
	d, err := noop.New(noop.Config{Ledger: l})
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "lb-a"})
	if err != nil || got != holds[0].VIP {
		t.Fatalf("lb-a = %+v, %v; want its seeded %+v", got, err, holds[0].VIP)
	}
	fresh, err := d.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "lb-new"})
	if err != nil || fresh.Address != "127.100.0.4" {
		t.Fatalf("new load balancer = %+v, %v; want 127.100.0.4 (.2 and .3 seeded)", fresh, err)
	}
	// A seed that fails leaves no table behind.
	l2 := open(t, dsn, pgtest.Schema(t, dsn, "vip_test_"))
	boom := errors.New("boom")
	if _, err := l2.Migrate(ctx, func(context.Context) ([]pgledger.Hold, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("Migrate with a failing seed: %v", err)
	}
	if err := l2.Check(ctx); !errors.Is(err, pgledger.ErrNotMigrated) {
		t.Fatalf("after a failed seed: Check = %v, want ErrNotMigrated", err)
	}
}

// TestReserveIsHarmless: Reserve (a start-up re-population) on a shared
// ledger adds a missing hold, repeats without error and never takes an
// address or a load balancer's hold from another process.
func TestReserveIsHarmless(t *testing.T) {
	first, dsn, schema := fresh(t)
	ctx := context.Background()
	a, err := noop.New(noop.Config{Ledger: first})
	if err != nil {
		t.Fatal(err)
	}
	b, err := noop.New(noop.Config{Ledger: open(t, dsn, schema)})
	if err != nil {
		t.Fatal(err)
	}
	held, err := a.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "lb-1"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := b.Reserve(ctx, "lb-1", held); err != nil {
			t.Fatalf("Reserve #%d of the held VIP: %v", i+1, err)
		}
	}
	if err := b.Reserve(ctx, "lb-2", held); !errors.Is(err, network.ErrAddressInUse) {
		t.Fatalf("Reserve of lb-1's VIP for lb-2: %v, want ErrAddressInUse", err)
	}
	other := held
	other.Address = "127.100.0.77"
	if err := b.Reserve(ctx, "lb-1", other); err == nil {
		t.Fatal("Reserve replaced lb-1's hold")
	}
	if got, err := a.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "lb-1"}); err != nil || got != held {
		t.Fatalf("lb-1 = %+v, %v; want %+v kept", got, err, held)
	}
	missing := network.VIP{Address: "127.100.0.50", PortID: "port-3", SubnetID: noop.DefaultSubnetID}
	if err := b.Reserve(ctx, "lb-3", missing); err != nil {
		t.Fatalf("Reserve of a VIP missing from the ledger: %v", err)
	}
	if _, err := a.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "lb-4", Address: "127.100.0.50"}); !errors.Is(err, network.ErrAddressInUse) {
		t.Fatalf("address reserved through the other process: %v, want ErrAddressInUse", err)
	}
}
