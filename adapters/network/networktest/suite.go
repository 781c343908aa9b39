// Package networktest is the conformance suite every network.Driver passes.
// A driver's test calls Run with a constructor of fresh drivers.
package networktest

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/network"
)

// NewDriver returns a fresh driver (no VIP allocated) serving at least one
// IPv4 subnet of /28 or larger.
type NewDriver func(t *testing.T) network.Driver

// Run runs the suite.
func Run(t *testing.T, newDriver NewDriver) {
	tests := []struct {
		name string
		fn   func(*testing.T, network.Driver, network.Subnet)
	}{
		{"AllocateInSubnet", testAllocateInSubnet},
		{"AllocateIsIdempotentPerLoadBalancer", testIdempotent},
		{"DistinctAddresses", testDistinct},
		{"RequestedAddress", testRequested},
		{"RequestedAddressInUse", testInUse},
		{"RequestedAddressInvalid", testInvalidAddress},
		{"UnknownSubnet", testUnknownSubnet},
		{"NetworkOnly", testNetworkOnly},
		{"ReleaseFreesAddress", testRelease},
		{"ReleaseIsIdempotent", testReleaseIdempotent},
		{"Subnets", testSubnets},
		{"CanceledContext", testCanceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDriver(t)
			tt.fn(t, d, firstIPv4(t, d))
		})
	}
}

func firstIPv4(t *testing.T, d network.Driver) network.Subnet {
	t.Helper()
	subnets, err := d.ListSubnets(context.Background())
	if err != nil {
		t.Fatalf("ListSubnets: %v", err)
	}
	for _, s := range subnets {
		if p, err := netip.ParsePrefix(s.CIDR); err == nil && p.Addr().Is4() && p.Bits() <= 28 {
			return s
		}
	}
	t.Fatalf("driver serves no IPv4 subnet of /28 or larger: %+v", subnets)
	return network.Subnet{}
}

func allocate(t *testing.T, d network.Driver, req network.VIPRequest) network.VIP {
	t.Helper()
	vip, err := d.AllocateVIP(context.Background(), req)
	if err != nil {
		t.Fatalf("AllocateVIP(%+v): %v", req, err)
	}
	return vip
}

// host returns the n-th address after the subnet's network address.
func host(t *testing.T, s network.Subnet, n int) string {
	t.Helper()
	a := netip.MustParsePrefix(s.CIDR).Masked().Addr()
	for range n {
		a = a.Next()
	}
	if a.String() == s.GatewayIP { // skip the gateway
		a = a.Next()
	}
	return a.String()
}

func testAllocateInSubnet(t *testing.T, d network.Driver, s network.Subnet) {
	vip := allocate(t, d, network.VIPRequest{LoadBalancerID: "lb-1", SubnetID: s.ID})
	addr, err := netip.ParseAddr(vip.Address)
	if err != nil {
		t.Fatalf("address %q: %v", vip.Address, err)
	}
	prefix := netip.MustParsePrefix(s.CIDR).Masked()
	if !prefix.Contains(addr) || addr == prefix.Addr() || vip.Address == s.GatewayIP {
		t.Fatalf("address %s is not a host address of %s (gateway %s)", addr, s.CIDR, s.GatewayIP)
	}
	if vip.SubnetID != s.ID || vip.NetworkID != s.NetworkID || vip.PortID == "" {
		t.Fatalf("vip = %+v, want subnet %s, network %s and a port", vip, s.ID, s.NetworkID)
	}
}

func testIdempotent(t *testing.T, d network.Driver, s network.Subnet) {
	first := allocate(t, d, network.VIPRequest{LoadBalancerID: "lb-1", SubnetID: s.ID})
	again := allocate(t, d, network.VIPRequest{LoadBalancerID: "lb-1", SubnetID: s.ID})
	if first != again {
		t.Fatalf("second allocation = %+v, want %+v", again, first)
	}
	// Whatever the retry asks for: the VIP held, not a refusal.
	for _, req := range []network.VIPRequest{
		{LoadBalancerID: "lb-1", SubnetID: "00000000-0000-4000-8000-000000000000"},
		{LoadBalancerID: "lb-1", SubnetID: s.ID, Address: "not-an-ip"},
		{LoadBalancerID: "lb-1", SubnetID: s.ID, Address: host(t, s, 3)},
	} {
		if got := allocate(t, d, req); got != first {
			t.Fatalf("retry %+v = %+v, want the held %+v", req, got, first)
		}
	}
}

func testDistinct(t *testing.T, d network.Driver, s network.Subnet) {
	seen := map[string]string{}
	ports := map[string]bool{}
	for _, lb := range []string{"lb-1", "lb-2", "lb-3", "lb-4"} {
		vip := allocate(t, d, network.VIPRequest{LoadBalancerID: lb, SubnetID: s.ID})
		if other, ok := seen[vip.Address]; ok {
			t.Fatalf("%s got address %s already held by %s", lb, vip.Address, other)
		}
		if ports[vip.PortID] {
			t.Fatalf("%s got port %s twice", lb, vip.PortID)
		}
		seen[vip.Address], ports[vip.PortID] = lb, true
	}
}

func testRequested(t *testing.T, d network.Driver, s network.Subnet) {
	want := host(t, s, 9)
	vip := allocate(t, d, network.VIPRequest{LoadBalancerID: "lb-1", SubnetID: s.ID, Address: want})
	if vip.Address != want {
		t.Fatalf("address = %s, want the requested %s", vip.Address, want)
	}
	// A free allocation never hands out the requested address again.
	for _, lb := range []string{"lb-2", "lb-3"} {
		if v := allocate(t, d, network.VIPRequest{LoadBalancerID: lb, SubnetID: s.ID}); v.Address == want {
			t.Fatalf("%s got %s, held by lb-1", lb, want)
		}
	}
}

func testInUse(t *testing.T, d network.Driver, s network.Subnet) {
	addr := host(t, s, 5)
	allocate(t, d, network.VIPRequest{LoadBalancerID: "lb-1", SubnetID: s.ID, Address: addr})
	_, err := d.AllocateVIP(context.Background(), network.VIPRequest{LoadBalancerID: "lb-2", SubnetID: s.ID, Address: addr})
	if !errors.Is(err, network.ErrAddressInUse) {
		t.Fatalf("err = %v, want ErrAddressInUse", err)
	}
}

func testInvalidAddress(t *testing.T, d network.Driver, s network.Subnet) {
	prefix := netip.MustParsePrefix(s.CIDR).Masked()
	outside := prefix.Addr().Prev()
	if !outside.IsValid() {
		outside = netip.MustParseAddr("255.255.255.254")
	}
	for _, addr := range []string{"not-an-ip", outside.String(), prefix.Addr().String()} {
		_, err := d.AllocateVIP(context.Background(), network.VIPRequest{LoadBalancerID: "lb-1", SubnetID: s.ID, Address: addr})
		if !errors.Is(err, network.ErrInvalidAddress) {
			t.Errorf("address %q: err = %v, want ErrInvalidAddress", addr, err)
		}
	}
}

func testUnknownSubnet(t *testing.T, d network.Driver, _ network.Subnet) {
	const unknown = "00000000-0000-4000-8000-000000000000"
	_, err := d.AllocateVIP(context.Background(), network.VIPRequest{LoadBalancerID: "lb-1", SubnetID: unknown})
	if !errors.Is(err, network.ErrSubnetNotFound) {
		t.Fatalf("AllocateVIP: err = %v, want ErrSubnetNotFound", err)
	}
	if _, err := d.GetSubnet(context.Background(), unknown); !errors.Is(err, network.ErrSubnetNotFound) {
		t.Fatalf("GetSubnet: err = %v, want ErrSubnetNotFound", err)
	}
	_, err = d.AllocateVIP(context.Background(), network.VIPRequest{LoadBalancerID: "lb-1", NetworkID: unknown})
	if !errors.Is(err, network.ErrSubnetNotFound) {
		t.Fatalf("AllocateVIP on unknown network: err = %v, want ErrSubnetNotFound", err)
	}
}

func testNetworkOnly(t *testing.T, d network.Driver, s network.Subnet) {
	vip := allocate(t, d, network.VIPRequest{LoadBalancerID: "lb-1", NetworkID: s.NetworkID})
	if vip.NetworkID != s.NetworkID || vip.SubnetID == "" {
		t.Fatalf("vip = %+v, want a subnet of network %s", vip, s.NetworkID)
	}
}

func testRelease(t *testing.T, d network.Driver, s network.Subnet) {
	addr := host(t, s, 7)
	vip := allocate(t, d, network.VIPRequest{LoadBalancerID: "lb-1", SubnetID: s.ID, Address: addr})
	if err := d.ReleaseVIP(context.Background(), "lb-1", vip.PortID); err != nil {
		t.Fatalf("ReleaseVIP: %v", err)
	}
	again := allocate(t, d, network.VIPRequest{LoadBalancerID: "lb-2", SubnetID: s.ID, Address: addr})
	if again.Address != addr {
		t.Fatalf("address = %s, want the released %s", again.Address, addr)
	}
}

func testReleaseIdempotent(t *testing.T, d network.Driver, s network.Subnet) {
	vip := allocate(t, d, network.VIPRequest{LoadBalancerID: "lb-1", SubnetID: s.ID})
	for i := range 2 {
		if err := d.ReleaseVIP(context.Background(), "lb-1", vip.PortID); err != nil {
			t.Fatalf("ReleaseVIP #%d: %v", i+1, err)
		}
	}
	if err := d.ReleaseVIP(context.Background(), "lb-unknown", "00000000-0000-4000-8000-000000000001"); err != nil {
		t.Fatalf("ReleaseVIP of an unknown port: %v", err)
	}
}

func testSubnets(t *testing.T, d network.Driver, s network.Subnet) {
	got, err := d.GetSubnet(context.Background(), s.ID)
	if err != nil {
		t.Fatalf("GetSubnet: %v", err)
	}
	if got != s {
		t.Fatalf("GetSubnet = %+v, want %+v (as listed)", got, s)
	}
	if s.IPVersion != 4 || s.NetworkID == "" {
		t.Fatalf("subnet %+v: want ip_version 4 and a network id", s)
	}
}

func testCanceled(t *testing.T, d network.Driver, s network.Subnet) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "lb-1", SubnetID: s.ID}); !errors.Is(err, context.Canceled) {
		t.Fatalf("AllocateVIP with a canceled context: err = %v, want context.Canceled", err)
	}
}
