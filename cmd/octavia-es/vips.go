package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/octavia-es/octavia-es/adapters/network"
	v2 "github.com/octavia-es/octavia-es/http/v2"
)

// gatedVIPs gives the API the network driver's VIP allocation only once the
// VIPs the events hold are reserved again after a start (reserveVIPs): with
// the SQLite store the noop and local drivers keep their allocations in
// memory, so an allocation served earlier could hand out an address a load
// balancer already has. With the shared PostgreSQL ledger (vipledger.go)
// there is nothing to reserve and the gate opens once the read model has
// caught up.
type gatedVIPs struct {
	vips  v2.VIPs
	ready chan struct{}
	once  sync.Once
}

var _ v2.VIPs = (*gatedVIPs)(nil)

func newGatedVIPs(vips v2.VIPs) *gatedVIPs {
	return &gatedVIPs{vips: vips, ready: make(chan struct{})}
}

// open lets allocations through; later calls do nothing.
func (g *gatedVIPs) open() { g.once.Do(func() { close(g.ready) }) }

// AllocateVIP waits for open (or for ctx to end), then allocates.
func (g *gatedVIPs) AllocateVIP(ctx context.Context, req network.VIPRequest) (network.VIP, error) {
	select {
	case <-g.ready:
	case <-ctx.Done():
		return network.VIP{}, fmt.Errorf("allocate VIP: waiting for start-up reservations: %w", ctx.Err())
	}
	return g.vips.AllocateVIP(ctx, req)
}

// ReleaseVIP needs no wait: only allocations served after open are freed.
func (g *gatedVIPs) ReleaseVIP(ctx context.Context, loadBalancerID, portID string) error {
	return g.vips.ReleaseVIP(ctx, loadBalancerID, portID)
}
