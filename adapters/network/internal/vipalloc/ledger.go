package vipalloc

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"github.com/octavia-es/octavia-es/adapters/network"
)

// ErrTaken: every candidate address of a Claim is held by another load
// balancer. The Allocator tries the next candidates, or answers
// ErrAddressInUse for an address that was asked for.
var ErrTaken = errors.New("vipalloc: every candidate address is held")

// Ledger is where allocations are held: which load balancer holds which
// address and port of a subnet. The Allocator validates and picks
// candidates; a Ledger makes each hold atomic, so that an address of a
// subnet, a port and a load balancer are each held at most once, however
// many goroutines (or, for a shared ledger, processes) claim at once.
type Ledger interface {
	// Held returns the VIP loadBalancerID holds (ok false: none).
	Held(ctx context.Context, loadBalancerID string) (vip network.VIP, ok bool, err error)

	// Claim holds for loadBalancerID the first of candidates that no load
	// balancer holds on vip.SubnetID, with vip's port and network, and
	// returns the VIP held. If loadBalancerID holds a VIP already (a
	// concurrent allocation won), Claim returns that one unchanged. Errors:
	// network.ErrAddressInUse when another load balancer holds vip.PortID,
	// ErrTaken when every candidate is held.
	Claim(ctx context.Context, loadBalancerID string, vip network.VIP, candidates []netip.Addr) (network.VIP, error)

	// Release deletes the hold of loadBalancerID if it is on portID and
	// returns the VIP released (ok false: nothing held on that port).
	Release(ctx context.Context, loadBalancerID, portID string) (vip network.VIP, ok bool, err error)
}

// MemoryLedger is the Ledger of one process: maps under a mutex. Its
// holds are lost on exit (Reserve puts them back after a restart).
type MemoryLedger struct {
	mu    sync.Mutex
	byLB  map[string]network.VIP // load balancer id -> its VIP
	used  map[string]string      // subnet id + address -> load balancer id
	ports map[string]string      // port id -> load balancer id
}

var _ Ledger = (*MemoryLedger)(nil)

// NewMemoryLedger returns an empty in-memory ledger.
func NewMemoryLedger() *MemoryLedger {
	return &MemoryLedger{byLB: map[string]network.VIP{}, used: map[string]string{}, ports: map[string]string{}}
}

func addressKey(subnetID string, addr netip.Addr) string { return subnetID + "\x00" + addr.String() }

// Held implements Ledger.
func (m *MemoryLedger) Held(ctx context.Context, loadBalancerID string) (network.VIP, bool, error) {
	if err := ctx.Err(); err != nil {
		return network.VIP{}, false, fmt.Errorf("vipalloc: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	vip, ok := m.byLB[loadBalancerID]
	return vip, ok, nil
}

// Claim implements Ledger.
func (m *MemoryLedger) Claim(ctx context.Context, loadBalancerID string, vip network.VIP, candidates []netip.Addr) (network.VIP, error) {
	if err := ctx.Err(); err != nil {
		return network.VIP{}, fmt.Errorf("vipalloc: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if held, ok := m.byLB[loadBalancerID]; ok {
		return held, nil
	}
	if owner, ok := m.ports[vip.PortID]; ok && owner != loadBalancerID {
		return network.VIP{}, fmt.Errorf("port %s: %w", vip.PortID, network.ErrAddressInUse)
	}
	for _, addr := range candidates {
		key := addressKey(vip.SubnetID, addr)
		if _, taken := m.used[key]; taken {
			continue
		}
		vip.Address = addr.String()
		m.byLB[loadBalancerID] = vip
		m.used[key] = loadBalancerID
		m.ports[vip.PortID] = loadBalancerID
		return vip, nil
	}
	return network.VIP{}, ErrTaken
}

// Release implements Ledger.
func (m *MemoryLedger) Release(ctx context.Context, loadBalancerID, portID string) (network.VIP, bool, error) {
	if err := ctx.Err(); err != nil {
		return network.VIP{}, false, fmt.Errorf("vipalloc: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	vip, ok := m.byLB[loadBalancerID]
	if !ok || vip.PortID != portID {
		return network.VIP{}, false, nil
	}
	delete(m.byLB, loadBalancerID)
	delete(m.ports, vip.PortID)
	if addr, err := netip.ParseAddr(vip.Address); err == nil {
		delete(m.used, addressKey(vip.SubnetID, addr))
	}
	return vip, true, nil
}
