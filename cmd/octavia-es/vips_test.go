package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/network"
)

type countingVIPs struct{ allocated, released int }

func (c *countingVIPs) AllocateVIP(ctx context.Context, req network.VIPRequest) (network.VIP, error) {
	c.allocated++
	return network.VIP{Address: "127.100.0.2", PortID: "port-" + req.LoadBalancerID}, nil
}

func (c *countingVIPs) ReleaseVIP(ctx context.Context, lbID, portID string) error {
	c.released++
	return nil
}

func TestGatedVIPsWaitForReservations(t *testing.T) {
	inner := &countingVIPs{}
	g := newGatedVIPs(inner)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := g.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "lb"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("allocation before open: %v, want the context's deadline", err)
	}
	if inner.allocated != 0 {
		t.Fatalf("the driver was asked before open")
	}
	if err := g.ReleaseVIP(context.Background(), "lb", "port-lb"); err != nil || inner.released != 1 {
		t.Fatalf("release before open: %v, %d calls", err, inner.released)
	}

	done := make(chan error, 1)
	go func() {
		_, err := g.AllocateVIP(context.Background(), network.VIPRequest{LoadBalancerID: "lb"})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("allocation returned before open: %v", err)
	case <-time.After(10 * time.Millisecond):
	}
	g.open()
	g.open() // idempotent
	select {
	case err := <-done:
		if err != nil || inner.allocated != 1 {
			t.Fatalf("allocation after open: %v, %d calls", err, inner.allocated)
		}
	case <-time.After(time.Second):
		t.Fatal("allocation still waiting after open")
	}
}
