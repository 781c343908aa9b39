// Package noop is Octavia's noop network driver made useful: subnets come
// from configuration and VIP addresses are really allocated from their CIDR,
// so two load balancers never share an address. Nothing is plugged anywhere.
//
// Allocations are held in Config.Ledger. The default one is in memory and
// lost on restart: the VIPs recorded by events (VipAllocated without a later
// VipReleased) must then be handed back with Reserve before new allocations
// are served, or a restarted process could give a held address to another
// load balancer. A shared ledger (adapters/network/pgledger) outlives the
// process and is shared by every process allocating VIPs. Port ids are
// derived from the load balancer id, so a VIP allocated again after a
// restart keeps its port.
package noop

import (
	"context"
	"fmt"
	"time"

	"github.com/octavia-es/octavia-es/adapters/network"
	"github.com/octavia-es/octavia-es/adapters/network/internal/vipalloc"
	"github.com/octavia-es/octavia-es/adapters/noopkit"
)

var _ network.Driver = (*Driver)(nil)

// Operation names, as FailOn and Calls spell them.
const (
	OpAllocateVIP = "network.allocate_vip"
	OpReleaseVIP  = "network.release_vip"
	OpGetSubnet   = "network.get_subnet"
	OpListSubnets = "network.list_subnets"
)

// Driver is the noop network driver. Safe for concurrent use.
type Driver struct {
	rec   *noopkit.Recorder
	alloc *vipalloc.Allocator
}

// New returns a driver serving cfg's subnets (DefaultConfig's when none).
func New(cfg Config) (*Driver, error) {
	if len(cfg.Subnets) == 0 {
		cfg.Subnets = DefaultConfig().Subnets
	}
	rec, err := noopkit.New("network", []string{"allocate_vip", "release_vip", "get_subnet", "list_subnets"}, cfg.Faults)
	if err != nil {
		return nil, err
	}
	alloc, err := vipalloc.New(cfg.Subnets, nil, cfg.Ledger)
	if err != nil {
		return nil, fmt.Errorf("noop network: %w", err)
	}
	return &Driver{rec: rec, alloc: alloc}, nil
}

// AllocateVIP implements network.Driver.
func (d *Driver) AllocateVIP(ctx context.Context, req network.VIPRequest) (network.VIP, error) {
	if err := d.rec.Do(ctx, "allocate_vip", fmt.Sprintf("lb=%s subnet=%s network=%s address=%s port=%s",
		req.LoadBalancerID, req.SubnetID, req.NetworkID, req.Address, req.PortID)); err != nil {
		return network.VIP{}, err
	}
	vip, err := d.alloc.Allocate(ctx, req)
	if err != nil {
		return network.VIP{}, fmt.Errorf("noop network: %w", err)
	}
	return vip, nil
}

// Reserve re-populates the allocation state after a restart with a VIP the
// events say is held by loadBalancerID. Reserving the same VIP again is not
// an error; an address held by another load balancer is ErrAddressInUse.
func (d *Driver) Reserve(ctx context.Context, loadBalancerID string, vip network.VIP) error {
	if err := d.alloc.Reserve(ctx, loadBalancerID, vip); err != nil {
		return fmt.Errorf("noop network: %w", err)
	}
	return nil
}

// ReleaseVIP implements network.Driver.
func (d *Driver) ReleaseVIP(ctx context.Context, loadBalancerID, portID string) error {
	if err := d.rec.Do(ctx, "release_vip", fmt.Sprintf("lb=%s port=%s", loadBalancerID, portID)); err != nil {
		return err
	}
	if _, _, err := d.alloc.Release(ctx, loadBalancerID, portID); err != nil {
		return fmt.Errorf("noop network: release VIP: %w", err)
	}
	return nil
}

// GetSubnet implements network.Driver.
func (d *Driver) GetSubnet(ctx context.Context, id string) (network.Subnet, error) {
	if err := d.rec.Do(ctx, "get_subnet", "id="+id); err != nil {
		return network.Subnet{}, err
	}
	return d.alloc.Subnet(id)
}

// ListSubnets implements network.Driver.
func (d *Driver) ListSubnets(ctx context.Context) ([]network.Subnet, error) {
	if err := d.rec.Do(ctx, "list_subnets", ""); err != nil {
		return nil, err
	}
	return d.alloc.Subnets(), nil
}

// Calls returns every call recorded so far.
func (d *Driver) Calls() []noopkit.Call { return d.rec.Calls() }

// Count is the number of calls of op (OpAllocateVIP, ...).
func (d *Driver) Count(op string) int { return d.rec.Count(op) }

// FailOn makes every later call of op fail with err (noopkit.ErrInjected when nil).
func (d *Driver) FailOn(op string, err error) { d.rec.FailOn(op, err) }

// FailNext makes the next n calls of op fail.
func (d *Driver) FailNext(op string, n int, err error) { d.rec.FailNext(op, n, err) }

// ClearFailures removes every injected failure.
func (d *Driver) ClearFailures() { d.rec.ClearFailures() }

// SetDelay changes the delay added to every later call.
func (d *Driver) SetDelay(delay time.Duration) { d.rec.SetDelay(delay) }
