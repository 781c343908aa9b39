// Package pgledger is the VIP allocation ledger that processes share: one
// PostgreSQL table (vip_allocations, in a schema of its own choosing) in
// which every process allocating VIPs claims addresses, as Octavia's API
// processes share Neutron's IPAM database. It implements the Ledger of
// adapters/network/internal/vipalloc, which the noop and local network
// drivers take in their Config.
//
// A claim is one statement: the first of a batch of candidate addresses
// that no row holds, inserted with ON CONFLICT DO NOTHING. Uniqueness on
// (subnet_id, address), on port_id and on loadbalancer_id decides every
// race; nothing locks the table. A claim that loses a race (another process
// inserted the address it picked after its snapshot) runs again and sees
// the winner's row.
//
// The table is created by Migrate (octavia-es migrate), never by Open.
package pgledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/octavia-es/octavia-es/adapters/network"
	"github.com/octavia-es/octavia-es/adapters/network/internal/vipalloc"
)

var _ vipalloc.Ledger = (*Ledger)(nil)

// ErrNotMigrated: the schema has no vip_allocations table; run Migrate
// (octavia-es migrate) first.
var ErrNotMigrated = errors.New("network/pgledger: schema not migrated (run octavia-es migrate)")

const maxIdentifierLen = 63 // PostgreSQL's NAMEDATALEN - 1

// Option tunes Open.
type Option func(*options)

type options struct {
	maxConns int32
	logger   *slog.Logger
}

// WithMaxConns caps the connection pool (default: the DSN's pool_max_conns,
// else pgxpool's default of max(4, GOMAXPROCS)).
func WithMaxConns(n int32) Option {
	return func(o *options) {
		if n > 0 {
			o.maxConns = n
		}
	}
}

// WithLogger sets where the ledger logs (migrations applied). Default
// slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// Ledger is a vipalloc.Ledger in a PostgreSQL table. Safe for concurrent
// use by any number of goroutines and processes.
type Ledger struct {
	pool   *pgxpool.Pool
	schema string
	log    *slog.Logger
}

// Open connects to the database at dsn (a postgres:// URL or key=value
// string, as pgx accepts), with the ledger's table in schema, and checks
// the server answers. It does not create the table: until Migrate ran, the
// ledger's methods fail with an error wrapping ErrNotMigrated (Check tells
// at once).
func Open(ctx context.Context, dsn, schema string, opts ...Option) (*Ledger, error) {
	o := options{logger: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	if err := validSchema(schema); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors may quote the DSN, password included: don't wrap.
		return nil, errors.New("network/pgledger: invalid DSN")
	}
	if o.maxConns > 0 {
		cfg.MaxConns = o.maxConns
	}
	// Unqualified names resolve in our schema only. Claims rely on READ
	// COMMITTED's per-statement snapshots (a retried claim sees the row
	// that beat it), whatever the server's default isolation is.
	cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = "read committed"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("network/pgledger: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("network/pgledger: connect to %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	return &Ledger{pool: pool, schema: schema, log: o.logger}, nil
}

func validSchema(schema string) error {
	switch {
	case schema == "":
		return errors.New("network/pgledger: empty schema name")
	case len(schema) > maxIdentifierLen:
		return fmt.Errorf("network/pgledger: schema name %.20q… longer than %d bytes", schema, maxIdentifierLen)
	case strings.ContainsRune(schema, 0):
		return errors.New("network/pgledger: schema name contains NUL")
	}
	return nil
}

// Schema returns the schema the ledger's table lives in.
func (l *Ledger) Schema() string { return l.schema }

// Close releases the connection pool.
func (l *Ledger) Close() { l.pool.Close() }

// Check returns an error wrapping ErrNotMigrated when the table is missing
// (a process refuses to start then, as with the event store).
func (l *Ledger) Check(ctx context.Context) error {
	if _, err := l.pool.Exec(ctx, `SELECT 1 FROM vip_allocations LIMIT 0`); err != nil {
		return fmt.Errorf("network/pgledger: schema %s: %w", l.schema, wrapSchemaErr(err))
	}
	return nil
}

// Held implements vipalloc.Ledger.
func (l *Ledger) Held(ctx context.Context, loadBalancerID string) (network.VIP, bool, error) {
	var subnet, address, port, netID string
	err := l.pool.QueryRow(ctx, `SELECT subnet_id, host(address), port_id, network_id
		FROM vip_allocations WHERE loadbalancer_id = $1`, loadBalancerID).Scan(&subnet, &address, &port, &netID)
	if errors.Is(err, pgx.ErrNoRows) {
		return network.VIP{}, false, nil
	}
	if err != nil {
		return network.VIP{}, false, fmt.Errorf("network/pgledger: held: %w", wrapSchemaErr(err))
	}
	return vip(address, port, subnet, netID), true, nil
}

// claimSQL inserts the first candidate ($4, in order) that no row holds on
// the subnet, unless a unique constraint says another row got there first
// (ON CONFLICT DO NOTHING without a target covers all three). It returns
// the candidate picked (NULL: every candidate is held, as of the
// statement's snapshot) and the address inserted (NULL: nothing was).
const claimSQL = `
WITH pick AS (
    SELECT c.address::inet AS address
    FROM unnest($4::text[]) WITH ORDINALITY AS c(address, ord)
    WHERE NOT EXISTS (SELECT 1 FROM vip_allocations v WHERE v.subnet_id = $2 AND v.address = c.address::inet)
    ORDER BY c.ord
    LIMIT 1
), claimed AS (
    INSERT INTO vip_allocations (loadbalancer_id, subnet_id, address, port_id, network_id)
    SELECT $1, $2, address, $3, $5 FROM pick
    ON CONFLICT DO NOTHING
    RETURNING address
)
SELECT (SELECT host(address) FROM pick), (SELECT host(address) FROM claimed)`

// Claim implements vipalloc.Ledger.
func (l *Ledger) Claim(ctx context.Context, loadBalancerID string, want network.VIP, candidates []netip.Addr) (network.VIP, error) {
	addrs := make([]string, len(candidates))
	for i, a := range candidates {
		addrs[i] = a.String()
	}
	// Each lost race is an address another claim inserted after this
	// statement's snapshot; the next statement sees it, so every attempt
	// but the last moves past at least one candidate.
	for range len(candidates) + 1 {
		var picked, claimed *string
		if err := l.pool.QueryRow(ctx, claimSQL, loadBalancerID, want.SubnetID, want.PortID, addrs, want.NetworkID).Scan(&picked, &claimed); err != nil {
			return network.VIP{}, fmt.Errorf("network/pgledger: claim: %w", wrapSchemaErr(err))
		}
		if claimed != nil {
			return vip(*claimed, want.PortID, want.SubnetID, want.NetworkID), nil
		}
		// Nothing inserted: this load balancer holds a VIP, another holds
		// the port, every candidate is held, or the race was lost.
		held, ok, err := l.Held(ctx, loadBalancerID)
		if err != nil {
			return network.VIP{}, err
		}
		if ok {
			return held, nil
		}
		var owner string
		err = l.pool.QueryRow(ctx, `SELECT loadbalancer_id FROM vip_allocations WHERE port_id = $1`, want.PortID).Scan(&owner)
		switch {
		case err == nil:
			return network.VIP{}, fmt.Errorf("port %s: %w", want.PortID, network.ErrAddressInUse)
		case !errors.Is(err, pgx.ErrNoRows):
			return network.VIP{}, fmt.Errorf("network/pgledger: claim: %w", wrapSchemaErr(err))
		}
		if picked == nil {
			return network.VIP{}, vipalloc.ErrTaken
		}
	}
	return network.VIP{}, fmt.Errorf("network/pgledger: claim for %s: lost %d races in a row", loadBalancerID, len(candidates)+1)
}

// Release implements vipalloc.Ledger.
func (l *Ledger) Release(ctx context.Context, loadBalancerID, portID string) (network.VIP, bool, error) {
	var subnet, address, netID string
	err := l.pool.QueryRow(ctx, `DELETE FROM vip_allocations WHERE loadbalancer_id = $1 AND port_id = $2
		RETURNING subnet_id, host(address), network_id`, loadBalancerID, portID).Scan(&subnet, &address, &netID)
	if errors.Is(err, pgx.ErrNoRows) {
		return network.VIP{}, false, nil
	}
	if err != nil {
		return network.VIP{}, false, fmt.Errorf("network/pgledger: release: %w", wrapSchemaErr(err))
	}
	return vip(address, portID, subnet, netID), true, nil
}

// vip builds a VIP with the address spelled as Go spells it (the drivers'
// answers must not depend on which ledger holds them).
func vip(address, port, subnet, netID string) network.VIP {
	if a, err := netip.ParseAddr(address); err == nil {
		address = a.String()
	}
	return network.VIP{Address: address, PortID: port, SubnetID: subnet, NetworkID: netID}
}

// wrapSchemaErr marks a missing table or schema as ErrNotMigrated.
func wrapSchemaErr(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "42P01" || pgErr.Code == "3F000") { // undefined_table, invalid_schema_name
		return fmt.Errorf("%w: %s", ErrNotMigrated, pgErr.Message)
	}
	return err
}
