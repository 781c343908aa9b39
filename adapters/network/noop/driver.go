// Package noop is Octavia's noop network driver made useful: subnets come
// from configuration and VIP addresses are really allocated from their CIDR,
// so two load balancers never share an address. Nothing is plugged anywhere.
//
// Allocation state is in memory and lost on restart. The VIPs recorded by
// events (VipAllocated without a later VipReleased) must be handed back with
// Reserve before new allocations are served, or a restarted process could
// give a held address to another load balancer. Port ids are derived from the
// load balancer id, so a VIP allocated again after a restart keeps its port.
package noop

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/octavia-es/octavia-es/adapters/network"
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

// portNamespace makes VIP port ids a function of the load balancer id.
var portNamespace = uuid.MustParse("6f1d3c2a-5b4e-4f7a-9c8d-0e1f2a3b4c5d")

type subnet struct {
	network.Subnet
	prefix  netip.Prefix
	gateway netip.Addr // zero: none
	cursor  netip.Addr // where the next scan for a free address starts
}

// Driver is the noop network driver. Safe for concurrent use.
type Driver struct {
	rec *noopkit.Recorder

	subnets []*subnet
	byID    map[string]*subnet

	mu    sync.Mutex
	byLB  map[string]network.VIP           // load balancer id -> its VIP
	used  map[string]map[netip.Addr]string // subnet id -> address -> load balancer id
	ports map[string]string                // port id -> load balancer id
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
	d := &Driver{
		rec:   rec,
		byID:  map[string]*subnet{},
		byLB:  map[string]network.VIP{},
		used:  map[string]map[netip.Addr]string{},
		ports: map[string]string{},
	}
	for i, s := range cfg.Subnets {
		sn, err := parseSubnet(s)
		if err != nil {
			return nil, fmt.Errorf("noop network: subnet %d: %w", i, err)
		}
		if _, dup := d.byID[sn.ID]; dup {
			return nil, fmt.Errorf("noop network: duplicate subnet id %q", sn.ID)
		}
		d.subnets = append(d.subnets, sn)
		d.byID[sn.ID] = sn
		d.used[sn.ID] = map[netip.Addr]string{}
	}
	return d, nil
}

func parseSubnet(s network.Subnet) (*subnet, error) {
	if s.ID == "" {
		return nil, fmt.Errorf("missing id")
	}
	prefix, err := netip.ParsePrefix(s.CIDR)
	if err != nil {
		return nil, fmt.Errorf("cidr: %w", err)
	}
	prefix = prefix.Masked()
	s.CIDR = prefix.String()
	version := 4
	if prefix.Addr().Is6() {
		version = 6
	}
	if s.IPVersion == 0 {
		s.IPVersion = version
	}
	if s.IPVersion != version {
		return nil, fmt.Errorf("ip_version %d does not match cidr %s", s.IPVersion, s.CIDR)
	}
	sn := &subnet{Subnet: s, prefix: prefix, cursor: prefix.Addr()}
	if s.GatewayIP != "" {
		gw, err := netip.ParseAddr(s.GatewayIP)
		if err != nil {
			return nil, fmt.Errorf("gateway_ip: %w", err)
		}
		if !prefix.Contains(gw) {
			return nil, fmt.Errorf("gateway_ip %s outside %s", gw, prefix)
		}
		sn.gateway = gw
	}
	return sn, nil
}

// AllocateVIP implements network.Driver.
func (d *Driver) AllocateVIP(ctx context.Context, req network.VIPRequest) (network.VIP, error) {
	if err := d.rec.Do(ctx, "allocate_vip", fmt.Sprintf("lb=%s subnet=%s network=%s address=%s port=%s",
		req.LoadBalancerID, req.SubnetID, req.NetworkID, req.Address, req.PortID)); err != nil {
		return network.VIP{}, err
	}
	if req.LoadBalancerID == "" {
		return network.VIP{}, fmt.Errorf("noop network: allocate VIP: missing load balancer id")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if vip, ok := d.byLB[req.LoadBalancerID]; ok {
		return vip, nil
	}
	sn, err := d.pickSubnet(req)
	if err != nil {
		return network.VIP{}, err
	}
	portID := req.PortID
	if portID == "" {
		portID = uuid.NewSHA1(portNamespace, []byte(req.LoadBalancerID)).String()
	}
	if owner, ok := d.ports[portID]; ok && owner != req.LoadBalancerID {
		return network.VIP{}, fmt.Errorf("port %s: %w", portID, network.ErrAddressInUse)
	}
	var addr netip.Addr
	if req.Address != "" {
		if addr, err = d.requested(sn, req.Address, req.LoadBalancerID); err != nil {
			return network.VIP{}, err
		}
	} else if addr, err = d.free(sn); err != nil {
		return network.VIP{}, err
	}
	vip := network.VIP{Address: addr.String(), PortID: portID, SubnetID: sn.ID, NetworkID: sn.NetworkID}
	d.hold(req.LoadBalancerID, sn, addr, vip)
	return vip, nil
}

// Reserve re-populates the allocation state after a restart with a VIP the
// events say is held by loadBalancerID. Reserving the same VIP again is not
// an error; an address held by another load balancer is ErrAddressInUse.
func (d *Driver) Reserve(loadBalancerID string, vip network.VIP) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	sn, ok := d.byID[vip.SubnetID]
	if !ok {
		return fmt.Errorf("reserve %s: %w", vip.SubnetID, network.ErrSubnetNotFound)
	}
	addr, err := netip.ParseAddr(vip.Address)
	if err != nil || !sn.prefix.Contains(addr) {
		return fmt.Errorf("reserve %q on %s: %w", vip.Address, sn.CIDR, network.ErrInvalidAddress)
	}
	if owner, ok := d.used[sn.ID][addr]; ok && owner != loadBalancerID {
		return fmt.Errorf("reserve %s: %w", addr, network.ErrAddressInUse)
	}
	if held, ok := d.byLB[loadBalancerID]; ok {
		d.unhold(loadBalancerID, held)
	}
	if vip.NetworkID == "" {
		vip.NetworkID = sn.NetworkID
	}
	d.hold(loadBalancerID, sn, addr, vip)
	return nil
}

// ReleaseVIP implements network.Driver.
func (d *Driver) ReleaseVIP(ctx context.Context, loadBalancerID, portID string) error {
	if err := d.rec.Do(ctx, "release_vip", fmt.Sprintf("lb=%s port=%s", loadBalancerID, portID)); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if vip, ok := d.byLB[loadBalancerID]; ok && vip.PortID == portID {
		d.unhold(loadBalancerID, vip)
	}
	return nil
}

// GetSubnet implements network.Driver.
func (d *Driver) GetSubnet(ctx context.Context, id string) (network.Subnet, error) {
	if err := d.rec.Do(ctx, "get_subnet", "id="+id); err != nil {
		return network.Subnet{}, err
	}
	sn, ok := d.byID[id]
	if !ok {
		return network.Subnet{}, fmt.Errorf("subnet %s: %w", id, network.ErrSubnetNotFound)
	}
	return sn.Subnet, nil
}

// ListSubnets implements network.Driver.
func (d *Driver) ListSubnets(ctx context.Context) ([]network.Subnet, error) {
	if err := d.rec.Do(ctx, "list_subnets", ""); err != nil {
		return nil, err
	}
	out := make([]network.Subnet, len(d.subnets))
	for i, sn := range d.subnets {
		out[i] = sn.Subnet
	}
	return out, nil
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

func (d *Driver) pickSubnet(req network.VIPRequest) (*subnet, error) {
	if req.SubnetID != "" {
		sn, ok := d.byID[req.SubnetID]
		if !ok {
			return nil, fmt.Errorf("subnet %s: %w", req.SubnetID, network.ErrSubnetNotFound)
		}
		if req.NetworkID != "" && req.NetworkID != sn.NetworkID {
			return nil, fmt.Errorf("subnet %s on network %s: %w", req.SubnetID, req.NetworkID, network.ErrSubnetNotFound)
		}
		return sn, nil
	}
	for _, sn := range d.subnets {
		if req.NetworkID == "" || sn.NetworkID == req.NetworkID {
			return sn, nil
		}
	}
	return nil, fmt.Errorf("a subnet on network %q: %w", req.NetworkID, network.ErrSubnetNotFound)
}

func (d *Driver) requested(sn *subnet, address, lbID string) (netip.Addr, error) {
	addr, err := netip.ParseAddr(address)
	if err != nil || !sn.usable(addr) {
		return netip.Addr{}, fmt.Errorf("%q on %s: %w", address, sn.CIDR, network.ErrInvalidAddress)
	}
	if owner, ok := d.used[sn.ID][addr]; ok && owner != lbID {
		return netip.Addr{}, fmt.Errorf("%s: %w", addr, network.ErrAddressInUse)
	}
	return addr, nil
}

// free scans from the subnet's cursor, wrapping once, for an unused address.
func (d *Driver) free(sn *subnet) (netip.Addr, error) {
	start := sn.cursor
	a := start
	for {
		a = a.Next()
		if !a.IsValid() || !sn.prefix.Contains(a) {
			a = sn.prefix.Addr()
		}
		if sn.usable(a) {
			if _, taken := d.used[sn.ID][a]; !taken {
				sn.cursor = a
				return a, nil
			}
		}
		if a == start {
			return netip.Addr{}, fmt.Errorf("%s: %w", sn.CIDR, network.ErrNoFreeAddress)
		}
	}
}

// usable: a host address of the subnet (not its network address, IPv4
// broadcast or gateway).
func (sn *subnet) usable(a netip.Addr) bool {
	if !sn.prefix.Contains(a) || a == sn.prefix.Addr() || a == sn.gateway {
		return false
	}
	if a.Is4() {
		next := a.Next()
		if !next.IsValid() || !sn.prefix.Contains(next) {
			return false // broadcast
		}
	}
	return true
}

func (d *Driver) hold(lbID string, sn *subnet, addr netip.Addr, vip network.VIP) {
	d.byLB[lbID] = vip
	d.used[sn.ID][addr] = lbID
	d.ports[vip.PortID] = lbID
}

func (d *Driver) unhold(lbID string, vip network.VIP) {
	delete(d.byLB, lbID)
	delete(d.ports, vip.PortID)
	if addr, err := netip.ParseAddr(vip.Address); err == nil {
		delete(d.used[vip.SubnetID], addr)
	}
}

// SetDelay changes the delay added to every later call.
func (d *Driver) SetDelay(delay time.Duration) { d.rec.SetDelay(delay) }
