// Package vipalloc is the VIP bookkeeping the noop and local network drivers
// share: subnets parsed from configuration, addresses allocated from their
// CIDR (or the one asked for, validated), held per load balancer in a
// Ledger, released, and re-populated after a restart with Reserve. Port ids
// are a function of the load balancer id, so a VIP allocated again after a
// restart keeps its port.
//
// The Ledger is the seam between one process and many: MemoryLedger (the
// default) holds allocations in this process only, so the drivers' callers
// re-populate it at start-up; a shared one (adapters/network/pgledger) is a
// table every process claims addresses in atomically, as Neutron's IPAM
// database is for Octavia's API processes.
package vipalloc

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"github.com/google/uuid"

	"github.com/octavia-es/octavia-es/adapters/network"
)

// portNamespace makes VIP port ids a function of the load balancer id. Both
// drivers use it, so switching driver keeps port ids.
var portNamespace = uuid.MustParse("6f1d3c2a-5b4e-4f7a-9c8d-0e1f2a3b4c5d")

// PortID is the port id of a load balancer's VIP when none is asked for.
func PortID(loadBalancerID string) string {
	return uuid.NewSHA1(portNamespace, []byte(loadBalancerID)).String()
}

// claimBatch: candidate addresses offered to the ledger per Claim. A shared
// ledger answers one batch in one round trip, so a subnet whose first
// thousands of addresses are held (a restarted process starts its scan at
// the beginning) costs a few round trips, not thousands.
const claimBatch = 256

type subnet struct {
	network.Subnet
	prefix  netip.Prefix
	gateway netip.Addr // zero: none
	cursor  netip.Addr // where the next scan for a free address starts (guarded by Allocator.mu)
}

// Allocator holds the subnets and allocates VIPs on them, holding them in
// its Ledger. Safe for concurrent use.
type Allocator struct {
	subnets []*subnet
	byID    map[string]*subnet
	ledger  Ledger

	mu sync.Mutex // the subnets' cursors
}

// New returns an allocator serving subnets, validated and normalised (CIDR
// masked, ip_version derived from it), holding allocations in ledger (a new
// MemoryLedger when nil). check, when not nil, may refuse a parsed subnet
// (a driver's own constraint, such as loopback only).
func New(subnets []network.Subnet, check func(network.Subnet, netip.Prefix) error, ledger Ledger) (*Allocator, error) {
	if ledger == nil {
		ledger = NewMemoryLedger()
	}
	a := &Allocator{byID: map[string]*subnet{}, ledger: ledger}
	for i, s := range subnets {
		sn, err := parseSubnet(s)
		if err == nil && check != nil {
			err = check(sn.Subnet, sn.prefix)
		}
		if err != nil {
			return nil, fmt.Errorf("subnet %d (%q): %w", i, s.ID, err)
		}
		if _, dup := a.byID[sn.ID]; dup {
			return nil, fmt.Errorf("duplicate subnet id %q", sn.ID)
		}
		a.subnets = append(a.subnets, sn)
		a.byID[sn.ID] = sn
	}
	return a, nil
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

// Allocate reserves a VIP for req.LoadBalancerID, or returns the one it
// already holds (network.Driver.AllocateVIP's contract, without the
// driver's own I/O).
func (a *Allocator) Allocate(ctx context.Context, req network.VIPRequest) (network.VIP, error) {
	if req.LoadBalancerID == "" {
		return network.VIP{}, fmt.Errorf("allocate VIP: missing load balancer id")
	}
	// A Claim returns the VIP the load balancer holds, whatever it asks
	// for; a request refused before any Claim looks first (heldOr). So the
	// usual allocation is one Claim: one round trip to a shared ledger.
	sn, err := a.pickSubnet(req)
	if err != nil {
		return a.heldOr(ctx, req.LoadBalancerID, err)
	}
	portID := req.PortID
	if portID == "" {
		portID = PortID(req.LoadBalancerID)
	}
	vip := network.VIP{PortID: portID, SubnetID: sn.ID, NetworkID: sn.NetworkID}
	if req.Address == "" {
		return a.free(ctx, sn, req.LoadBalancerID, vip)
	}
	addr, err := netip.ParseAddr(req.Address)
	if err != nil || !sn.usable(addr) {
		return a.heldOr(ctx, req.LoadBalancerID, fmt.Errorf("%q on %s: %w", req.Address, sn.CIDR, network.ErrInvalidAddress))
	}
	got, err := a.ledger.Claim(ctx, req.LoadBalancerID, vip, []netip.Addr{addr})
	if errors.Is(err, ErrTaken) {
		return network.VIP{}, fmt.Errorf("%s: %w", addr, network.ErrAddressInUse)
	}
	return got, err
}

// heldOr returns the VIP loadBalancerID holds, else refusal: a request
// repeated for a load balancer holding a VIP gets that VIP, even when the
// request itself would be refused (network.Driver's idempotence).
func (a *Allocator) heldOr(ctx context.Context, loadBalancerID string, refusal error) (network.VIP, error) {
	vip, ok, err := a.ledger.Held(ctx, loadBalancerID)
	switch {
	case err != nil:
		return network.VIP{}, err
	case ok:
		return vip, nil
	}
	return network.VIP{}, refusal
}

// Reserve re-populates the allocation state after a restart with a VIP the
// events say is held by loadBalancerID. Reserving the same VIP again is not
// an error; an address or port held by another load balancer is
// ErrAddressInUse. A hold is never replaced: on a shared ledger another
// process may have allocated since the events were read.
func (a *Allocator) Reserve(ctx context.Context, loadBalancerID string, vip network.VIP) error {
	sn, ok := a.byID[vip.SubnetID]
	if !ok {
		return fmt.Errorf("reserve %s: %w", vip.SubnetID, network.ErrSubnetNotFound)
	}
	addr, err := netip.ParseAddr(vip.Address)
	if err != nil || !sn.prefix.Contains(addr) {
		return fmt.Errorf("reserve %q on %s: %w", vip.Address, sn.CIDR, network.ErrInvalidAddress)
	}
	vip.Address = addr.String()
	if vip.NetworkID == "" {
		vip.NetworkID = sn.NetworkID
	}
	got, err := a.ledger.Claim(ctx, loadBalancerID, vip, []netip.Addr{addr})
	switch {
	case errors.Is(err, ErrTaken):
		return fmt.Errorf("reserve %s: %w", addr, network.ErrAddressInUse)
	case err != nil:
		return fmt.Errorf("reserve %s: %w", addr, err)
	case got.Address != vip.Address || got.SubnetID != vip.SubnetID || got.PortID != vip.PortID:
		return fmt.Errorf("reserve %s for load balancer %s: it holds %s (port %s) already", addr, loadBalancerID, got.Address, got.PortID)
	}
	return nil
}

// Release frees the VIP of loadBalancerID if it is held on portID and
// returns it; anything else (unknown, already released) is a no-op.
func (a *Allocator) Release(ctx context.Context, loadBalancerID, portID string) (network.VIP, bool, error) {
	return a.ledger.Release(ctx, loadBalancerID, portID)
}

// Subnet returns a subnet by id, or ErrSubnetNotFound.
func (a *Allocator) Subnet(id string) (network.Subnet, error) {
	sn, ok := a.byID[id]
	if !ok {
		return network.Subnet{}, fmt.Errorf("subnet %s: %w", id, network.ErrSubnetNotFound)
	}
	return sn.Subnet, nil
}

// Subnets returns every subnet, in configuration order.
func (a *Allocator) Subnets() []network.Subnet {
	out := make([]network.Subnet, len(a.subnets))
	for i, sn := range a.subnets {
		out[i] = sn.Subnet
	}
	return out
}

func (a *Allocator) pickSubnet(req network.VIPRequest) (*subnet, error) {
	if req.SubnetID != "" {
		sn, ok := a.byID[req.SubnetID]
		if !ok {
			return nil, fmt.Errorf("subnet %s: %w", req.SubnetID, network.ErrSubnetNotFound)
		}
		if req.NetworkID != "" && req.NetworkID != sn.NetworkID {
			return nil, fmt.Errorf("subnet %s on network %s: %w", req.SubnetID, req.NetworkID, network.ErrSubnetNotFound)
		}
		return sn, nil
	}
	for _, sn := range a.subnets {
		if req.NetworkID == "" || sn.NetworkID == req.NetworkID {
			return sn, nil
		}
	}
	return nil, fmt.Errorf("a subnet on network %q: %w", req.NetworkID, network.ErrSubnetNotFound)
}

// free scans from the subnet's cursor, wrapping once, for an address no
// load balancer holds, offering the ledger a batch of candidates at a time.
// The cursor is this process's hint only: a shared ledger's NOT EXISTS and
// unique constraints, not the cursor, keep two processes apart.
func (a *Allocator) free(ctx context.Context, sn *subnet, lbID string, vip network.VIP) (network.VIP, error) {
	a.mu.Lock()
	start := sn.cursor
	a.mu.Unlock()
	from := start
	for {
		batch, last, done := sn.scan(from, start, claimBatch)
		if len(batch) > 0 {
			// Allocations running at once in this process start after
			// each other's first candidate instead of racing for it.
			a.mu.Lock()
			sn.cursor = batch[0]
			a.mu.Unlock()
			got, err := a.ledger.Claim(ctx, lbID, vip, batch)
			if err == nil {
				if addr, perr := netip.ParseAddr(got.Address); perr == nil && sn.prefix.Contains(addr) {
					a.mu.Lock()
					sn.cursor = addr
					a.mu.Unlock()
				}
				return got, nil
			}
			if !errors.Is(err, ErrTaken) {
				return network.VIP{}, err
			}
		}
		if done {
			return network.VIP{}, fmt.Errorf("%s: %w", sn.CIDR, network.ErrNoFreeAddress)
		}
		from = last
	}
}

// scan returns up to limit usable addresses after from in scan order (past
// the subnet's last address it wraps to its first), the last address it
// looked at, and whether that was stop (the scan has gone round).
func (sn *subnet) scan(from, stop netip.Addr, limit int) (batch []netip.Addr, last netip.Addr, done bool) {
	addr := from
	for len(batch) < limit {
		addr = addr.Next()
		if !addr.IsValid() || !sn.prefix.Contains(addr) {
			addr = sn.prefix.Addr()
		}
		if sn.usable(addr) {
			batch = append(batch, addr)
		}
		if addr == stop {
			return batch, addr, true
		}
	}
	return batch, addr, false
}

// usable: a host address of the subnet (not its network address, IPv4
// broadcast or gateway).
func (sn *subnet) usable(addr netip.Addr) bool {
	if !sn.prefix.Contains(addr) || addr == sn.prefix.Addr() || addr == sn.gateway {
		return false
	}
	if addr.Is4() {
		next := addr.Next()
		if !next.IsValid() || !sn.prefix.Contains(next) {
			return false // broadcast
		}
	}
	return true
}
