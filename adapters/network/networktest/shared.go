package networktest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/network"
)

// NewPair returns two fresh drivers over one allocation ledger (two API
// processes of a deployment sharing it, or two drivers of one process),
// serving the same subnets, among them an IPv4 subnet of /24 or larger.
type NewPair func(t *testing.T) (network.Driver, network.Driver)

// sharedLBs: load balancers allocated through each driver of a pair.
const sharedLBs = 100

// RunShared runs the suite of drivers sharing a ledger: what one allocates
// the other never hands out, and what one releases the other may.
func RunShared(t *testing.T, newPair NewPair) {
	tests := []struct {
		name string
		fn   func(*testing.T, [2]network.Driver, network.Subnet)
	}{
		{"ConcurrentAllocationsAreDistinct", testSharedConcurrent},
		{"SameLoadBalancerThroughBoth", testSharedSameLB},
		{"RequestedAddressInUseAcross", testSharedInUse},
		{"ReleaseFreesForTheOther", testSharedRelease},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := newPair(t)
			tt.fn(t, [2]network.Driver{a, b}, sharedIPv4(t, a))
		})
	}
}

func sharedIPv4(t *testing.T, d network.Driver) network.Subnet {
	t.Helper()
	subnets, err := d.ListSubnets(context.Background())
	if err != nil {
		t.Fatalf("ListSubnets: %v", err)
	}
	for _, s := range subnets {
		if p, err := netip.ParsePrefix(s.CIDR); err == nil && p.Addr().Is4() && p.Bits() <= 24 {
			return s
		}
	}
	t.Fatalf("driver serves no IPv4 subnet of /24 or larger: %+v", subnets)
	return network.Subnet{}
}

// allocateAll allocates one VIP per id at once, id i through drivers[i%2],
// and returns them by id.
func allocateAll(t *testing.T, drivers [2]network.Driver, s network.Subnet, ids []string) map[string]network.VIP {
	t.Helper()
	vips := make([]network.VIP, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			vips[i], errs[i] = drivers[i%2].AllocateVIP(context.Background(), network.VIPRequest{LoadBalancerID: id, SubnetID: s.ID})
		})
	}
	wg.Wait()
	out := make(map[string]network.VIP, len(ids))
	for i, id := range ids {
		if errs[i] != nil {
			t.Fatalf("AllocateVIP(%s) through driver %d: %v", id, i%2, errs[i])
		}
		out[id] = vips[i]
	}
	return out
}

func lbIDs(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return ids
}

func testSharedConcurrent(t *testing.T, d [2]network.Driver, s network.Subnet) {
	ids := lbIDs("lb", 2*sharedLBs)
	vips := allocateAll(t, d, s, ids)
	prefix := netip.MustParsePrefix(s.CIDR).Masked()
	byAddr, byPort := map[string]string{}, map[string]string{}
	for _, id := range ids {
		vip := vips[id]
		addr, err := netip.ParseAddr(vip.Address)
		if err != nil || !prefix.Contains(addr) || vip.Address == s.GatewayIP || vip.SubnetID != s.ID {
			t.Errorf("%s: %+v is not a host address of subnet %s (%s)", id, vip, s.ID, s.CIDR)
		}
		if other, dup := byAddr[vip.Address]; dup {
			t.Errorf("%s and %s both got address %s", other, id, vip.Address)
		}
		if other, dup := byPort[vip.PortID]; dup {
			t.Errorf("%s and %s both got port %s", other, id, vip.PortID)
		}
		byAddr[vip.Address], byPort[vip.PortID] = id, id
	}
	// A retry, through either driver and all at once, returns the VIP held.
	for turn := range 2 {
		again := make([]network.VIP, len(ids))
		errs := make([]error, len(ids))
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Go(func() {
				again[i], errs[i] = d[(i+turn)%2].AllocateVIP(context.Background(), network.VIPRequest{LoadBalancerID: id, SubnetID: s.ID})
			})
		}
		wg.Wait()
		for i, id := range ids {
			if errs[i] != nil || again[i] != vips[id] {
				t.Errorf("retry of %s through driver %d = %+v, %v; want %+v", id, (i+turn)%2, again[i], errs[i], vips[id])
			}
		}
	}
}

// testSharedSameLB: a load balancer allocated through both drivers at the
// same moment (a saga retried while the first attempt still runs) holds
// one VIP, and both calls return it.
func testSharedSameLB(t *testing.T, d [2]network.Driver, s network.Subnet) {
	// Through one driver first: drivers that do not share their ledger
	// would now pick different addresses.
	for _, id := range lbIDs("one", 5) {
		allocate(t, d[0], network.VIPRequest{LoadBalancerID: id, SubnetID: s.ID})
	}
	for _, id := range lbIDs("twice", 20) {
		var got [2]network.VIP
		var errs [2]error
		var wg sync.WaitGroup
		for i := range 2 {
			wg.Go(func() {
				got[i], errs[i] = d[i].AllocateVIP(context.Background(), network.VIPRequest{LoadBalancerID: id, SubnetID: s.ID})
			})
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil || got[0] != got[1] {
			t.Fatalf("%s through both drivers: %+v (%v) and %+v (%v), want one VIP", id, got[0], errs[0], got[1], errs[1])
		}
	}
}

func testSharedInUse(t *testing.T, d [2]network.Driver, s network.Subnet) {
	addr := host(t, s, 11)
	allocate(t, d[0], network.VIPRequest{LoadBalancerID: "lb-1", SubnetID: s.ID, Address: addr})
	_, err := d[1].AllocateVIP(context.Background(), network.VIPRequest{LoadBalancerID: "lb-2", SubnetID: s.ID, Address: addr})
	if !errors.Is(err, network.ErrAddressInUse) {
		t.Fatalf("address held through the other driver: err = %v, want ErrAddressInUse", err)
	}
	// A port is held once too.
	port := "00000000-0000-4000-8000-0000000000aa"
	allocate(t, d[0], network.VIPRequest{LoadBalancerID: "lb-3", SubnetID: s.ID, PortID: port})
	_, err = d[1].AllocateVIP(context.Background(), network.VIPRequest{LoadBalancerID: "lb-4", SubnetID: s.ID, PortID: port})
	if !errors.Is(err, network.ErrAddressInUse) {
		t.Fatalf("port held through the other driver: err = %v, want ErrAddressInUse", err)
	}
}

func testSharedRelease(t *testing.T, d [2]network.Driver, s network.Subnet) {
	ids := lbIDs("rel", 2*sharedLBs)
	vips := allocateAll(t, d, s, ids)
	ctx := context.Background()
	// Released through the driver that did not allocate it.
	for i, id := range ids {
		if err := d[(i+1)%2].ReleaseVIP(ctx, id, vips[id].PortID); err != nil {
			t.Fatalf("ReleaseVIP(%s): %v", id, err)
		}
	}
	// Every address is free again, for either driver.
	for i, id := range ids {
		want := vips[id].Address
		got, err := d[i%2].AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "new-" + id, SubnetID: s.ID, Address: want})
		if err != nil || got.Address != want {
			t.Fatalf("after release, %s through driver %d = %+v, %v; want %s", want, i%2, got, err, want)
		}
	}
	// Releasing with another port id frees nothing.
	victim := "new-" + ids[0]
	if err := d[1].ReleaseVIP(ctx, victim, "not-its-port"); err != nil {
		t.Fatal(err)
	}
	_, err := d[1].AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "intruder", SubnetID: s.ID, Address: vips[ids[0]].Address})
	if !errors.Is(err, network.ErrAddressInUse) {
		t.Fatalf("after a release of the wrong port: err = %v, want ErrAddressInUse", err)
	}
}
