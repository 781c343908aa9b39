// Package local is the network driver of amphorae that run as local
// processes (adapters/compute/local): VIP subnets are ranges of the loopback
// network 127.0.0.0/8. On Linux every 127.x.y.z address is already routed to
// lo and can be bound without configuration, so "plugging" a VIP is a no-op:
// the amphora's HAProxy binds the VIP address directly, and members on
// 127.0.0.0/8 are reachable as they are.
//
// Allocations are held in Config.Ledger, as the noop driver's: the default
// one is in memory, so at start-up the VIPs the events hold (VipAllocated
// without a later VipReleased) must be handed back with Reserve before new
// allocations are served; a shared one (adapters/network/pgledger) needs
// none of that and lets several processes allocate. Port ids are derived
// from the load balancer id, so they survive a restart.
package local

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/octavia-es/octavia-es/adapters/network"
	"github.com/octavia-es/octavia-es/adapters/network/internal/vipalloc"
)

var _ network.Driver = (*Driver)(nil)

var (
	loopback = netip.MustParsePrefix("127.0.0.0/8")
	// localhost is where agents and most local services listen: a VIP there
	// would collide with them.
	localhost = netip.MustParseAddr("127.0.0.1")
)

// Driver is the local network driver. Safe for concurrent use.
type Driver struct {
	log   *slog.Logger
	alloc *vipalloc.Allocator
}

// New returns a driver serving cfg's subnets (DefaultConfig's when none). A
// subnet outside 127.0.0.0/8, containing 127.0.0.1 or overlapping another
// is refused: every VIP is an address of this host.
func New(cfg Config, log *slog.Logger) (*Driver, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if len(cfg.Subnets) == 0 {
		cfg.Subnets = DefaultConfig().Subnets
	}
	var seen []netip.Prefix
	alloc, err := vipalloc.New(cfg.Subnets, func(s network.Subnet, p netip.Prefix) error {
		if !p.Addr().Is4() || p.Bits() < loopback.Bits() || !loopback.Contains(p.Addr()) {
			return fmt.Errorf("cidr %s is not inside %s: the local driver serves loopback addresses only", p, loopback)
		}
		if p.Contains(localhost) {
			return fmt.Errorf("cidr %s contains %s, where local services listen", p, localhost)
		}
		for _, other := range seen {
			if other.Overlaps(p) {
				return fmt.Errorf("cidr %s overlaps %s of another subnet", p, other)
			}
		}
		seen = append(seen, p)
		return nil
	}, cfg.Ledger)
	if err != nil {
		return nil, fmt.Errorf("local network: %w", err)
	}
	return &Driver{log: log, alloc: alloc}, nil
}

// AllocateVIP implements network.Driver.
func (d *Driver) AllocateVIP(ctx context.Context, req network.VIPRequest) (network.VIP, error) {
	if err := ctx.Err(); err != nil {
		return network.VIP{}, fmt.Errorf("local network: allocate VIP: %w", err)
	}
	vip, err := d.alloc.Allocate(ctx, req)
	if err != nil {
		return network.VIP{}, fmt.Errorf("local network: %w", err)
	}
	d.log.DebugContext(ctx, "VIP allocated", "loadbalancer_id", req.LoadBalancerID, "address", vip.Address, "subnet_id", vip.SubnetID)
	return vip, nil
}

// Reserve re-populates the allocation state after a restart with a VIP the
// events say is held by loadBalancerID. Reserving the same VIP again is not
// an error; an address held by another load balancer is ErrAddressInUse.
func (d *Driver) Reserve(ctx context.Context, loadBalancerID string, vip network.VIP) error {
	if err := d.alloc.Reserve(ctx, loadBalancerID, vip); err != nil {
		return fmt.Errorf("local network: %w", err)
	}
	return nil
}

// ReleaseVIP implements network.Driver.
func (d *Driver) ReleaseVIP(ctx context.Context, loadBalancerID, portID string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("local network: release VIP: %w", err)
	}
	vip, ok, err := d.alloc.Release(ctx, loadBalancerID, portID)
	if err != nil {
		return fmt.Errorf("local network: release VIP: %w", err)
	}
	if ok {
		d.log.DebugContext(ctx, "VIP released", "loadbalancer_id", loadBalancerID, "address", vip.Address)
	}
	return nil
}

// GetSubnet implements network.Driver.
func (d *Driver) GetSubnet(ctx context.Context, id string) (network.Subnet, error) {
	if err := ctx.Err(); err != nil {
		return network.Subnet{}, fmt.Errorf("local network: get subnet: %w", err)
	}
	return d.alloc.Subnet(id)
}

// ListSubnets implements network.Driver.
func (d *Driver) ListSubnets(ctx context.Context) ([]network.Subnet, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("local network: list subnets: %w", err)
	}
	return d.alloc.Subnets(), nil
}
