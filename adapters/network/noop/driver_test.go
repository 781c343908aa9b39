package noop

import (
	"context"
	"errors"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/network"
	"github.com/octavia-es/octavia-es/adapters/network/internal/vipalloc"
	"github.com/octavia-es/octavia-es/adapters/network/networktest"
	"github.com/octavia-es/octavia-es/adapters/noopkit"
)

func TestConformance(t *testing.T) {
	networktest.Run(t, func(t *testing.T) network.Driver {
		d, err := New(DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

// TestSharedLedger: two drivers over one in-memory ledger (goroutines of
// one process; pgledger runs the same suite across pools).
func TestSharedLedger(t *testing.T) {
	networktest.RunShared(t, func(t *testing.T) (network.Driver, network.Driver) {
		ledger := vipalloc.NewMemoryLedger()
		var pair [2]network.Driver
		for i := range pair {
			d, err := New(Config{Ledger: ledger})
			if err != nil {
				t.Fatal(err)
			}
			pair[i] = d
		}
		return pair[0], pair[1]
	})
}

func TestDefaultSubnet(t *testing.T) {
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	vip, err := d.AllocateVIP(context.Background(), network.VIPRequest{LoadBalancerID: "lb-1", SubnetID: DefaultSubnetID})
	if err != nil {
		t.Fatal(err)
	}
	// .0 is the network, .1 the gateway: the first VIP is .2.
	want := network.VIP{Address: "127.100.0.2", PortID: vip.PortID, SubnetID: DefaultSubnetID, NetworkID: DefaultNetworkID}
	if vip != want {
		t.Fatalf("vip = %+v, want %+v", vip, want)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"missing id", Config{Subnets: []network.Subnet{{CIDR: "10.0.0.0/24"}}}},
		{"bad cidr", Config{Subnets: []network.Subnet{{ID: "s", CIDR: "10.0.0.0/33"}}}},
		{"gateway outside", Config{Subnets: []network.Subnet{{ID: "s", CIDR: "10.0.0.0/24", GatewayIP: "10.0.1.1"}}}},
		{"version mismatch", Config{Subnets: []network.Subnet{{ID: "s", CIDR: "10.0.0.0/24", IPVersion: 6}}}},
		{"duplicate id", Config{Subnets: []network.Subnet{{ID: "s", CIDR: "10.0.0.0/24"}, {ID: "s", CIDR: "10.0.1.0/24"}}}},
		{"unknown fail_on", Config{Faults: noopkit.Config{FailOn: []string{"network.allocate"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil {
				t.Fatal("New accepted a bad configuration")
			}
		})
	}
}

func TestExhaustion(t *testing.T) {
	// /29: .0 network, .1 gateway, .7 broadcast: five usable hosts.
	d, err := New(Config{Subnets: []network.Subnet{{ID: "s", NetworkID: "n", CIDR: "10.0.0.0/29", GatewayIP: "10.0.0.1"}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	got := map[string]bool{}
	for _, lb := range []string{"a", "b", "c", "d", "e"} {
		vip, err := d.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: lb, SubnetID: "s"})
		if err != nil {
			t.Fatalf("%s: %v", lb, err)
		}
		got[vip.Address] = true
	}
	for _, want := range []string{"10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"} {
		if !got[want] {
			t.Errorf("address %s not allocated; got %v", want, got)
		}
	}
	if _, err := d.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "f", SubnetID: "s"}); !errors.Is(err, network.ErrNoFreeAddress) {
		t.Fatalf("sixth allocation: err = %v, want ErrNoFreeAddress", err)
	}
	// Releasing one makes room again, after the cursor wraps.
	vipC, _ := d.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "c", SubnetID: "s"})
	if err := d.ReleaseVIP(ctx, "c", vipC.PortID); err != nil {
		t.Fatal(err)
	}
	vipF, err := d.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "f", SubnetID: "s"})
	if err != nil || vipF.Address != vipC.Address {
		t.Fatalf("after release: %+v, %v; want %s", vipF, err, vipC.Address)
	}
}

func TestReserveAfterRestart(t *testing.T) {
	ctx := context.Background()
	before, _ := New(DefaultConfig())
	held, err := before.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "lb-1", SubnetID: DefaultSubnetID})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := New(DefaultConfig()) // a restarted process
	if err := after.Reserve(ctx, "lb-1", held); err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	if err := after.Reserve(ctx, "lb-1", held); err != nil {
		t.Fatalf("Reserve again: %v", err)
	}
	if err := after.Reserve(ctx, "lb-2", held); !errors.Is(err, network.ErrAddressInUse) {
		t.Fatalf("Reserve by another LB: err = %v, want ErrAddressInUse", err)
	}
	other, err := after.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "lb-2", SubnetID: DefaultSubnetID})
	if err != nil || other.Address == held.Address {
		t.Fatalf("lb-2 got %+v (%v); %s is held by lb-1", other, err, held.Address)
	}
	again, err := after.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "lb-1"})
	if err != nil || again != held {
		t.Fatalf("lb-1 again: %+v (%v), want %+v", again, err, held)
	}
	// The port id is a function of the LB id: the same after a restart.
	fresh, _ := New(DefaultConfig())
	v, _ := fresh.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "lb-1"})
	if v.PortID != held.PortID {
		t.Fatalf("port after restart = %s, want %s", v.PortID, held.PortID)
	}
}

func TestFaultInjection(t *testing.T) {
	d, err := New(Config{Faults: noopkit.Config{FailOn: []string{OpAllocateVIP, "compute.create_amphora"}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := d.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "lb-1"}); !errors.Is(err, noopkit.ErrInjected) {
		t.Fatalf("err = %v, want ErrInjected", err)
	}
	d.ClearFailures()
	if _, err := d.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "lb-1"}); err != nil {
		t.Fatalf("after ClearFailures: %v", err)
	}
	if n := d.Count(OpAllocateVIP); n != 2 {
		t.Fatalf("Count = %d, want 2", n)
	}
	if calls := d.Calls(); len(calls) != 2 || calls[0].Op != OpAllocateVIP {
		t.Fatalf("calls = %+v", calls)
	}
}
