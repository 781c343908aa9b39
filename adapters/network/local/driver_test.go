package local

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/network"
	"github.com/octavia-es/octavia-es/adapters/network/internal/vipalloc"
	"github.com/octavia-es/octavia-es/adapters/network/networktest"
)

func newDriver(t *testing.T, cfg Config) *Driver {
	t.Helper()
	d, err := New(cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return d
}

func TestConformance(t *testing.T) {
	networktest.Run(t, func(t *testing.T) network.Driver { return newDriver(t, Config{}) })
}

// TestSharedLedger: two drivers over one in-memory ledger (goroutines of
// one process; pgledger runs the same suite across pools).
func TestSharedLedger(t *testing.T) {
	networktest.RunShared(t, func(t *testing.T) (network.Driver, network.Driver) {
		ledger := vipalloc.NewMemoryLedger()
		return newDriver(t, Config{Ledger: ledger}), newDriver(t, Config{Ledger: ledger})
	})
}

func TestSubnetValidation(t *testing.T) {
	sub := func(id, cidr string) network.Subnet { return network.Subnet{ID: id, NetworkID: "net", CIDR: cidr} }
	tests := []struct {
		name    string
		subnets []network.Subnet
		wantErr string // "" = accepted
	}{
		{"default", nil, ""},
		{"loopback /24", []network.Subnet{sub("a", "127.101.0.0/24")}, ""},
		{"two disjoint", []network.Subnet{sub("a", "127.101.0.0/24"), sub("b", "127.101.1.0/24")}, ""},
		{"unmasked cidr is masked", []network.Subnet{sub("a", "127.101.0.77/24")}, ""},
		{"private range", []network.Subnet{sub("a", "10.0.0.0/24")}, "not inside 127.0.0.0/8"},
		{"wider than loopback", []network.Subnet{sub("a", "126.0.0.0/7")}, "not inside 127.0.0.0/8"},
		{"ipv6 loopback", []network.Subnet{sub("a", "::1/128")}, "not inside 127.0.0.0/8"},
		{"whole loopback", []network.Subnet{sub("a", "127.0.0.0/8")}, "contains 127.0.0.1"},
		{"localhost /24", []network.Subnet{sub("a", "127.0.0.0/24")}, "contains 127.0.0.1"},
		{"overlap", []network.Subnet{sub("a", "127.101.0.0/16"), sub("b", "127.101.5.0/24")}, "overlaps"},
		{"duplicate id", []network.Subnet{sub("a", "127.101.0.0/24"), sub("a", "127.102.0.0/24")}, "duplicate subnet id"},
		{"bad cidr", []network.Subnet{sub("a", "127.101.0.0/33")}, "cidr"},
		{"missing id", []network.Subnet{sub("", "127.101.0.0/24")}, "missing id"},
		{"gateway outside", []network.Subnet{{ID: "a", CIDR: "127.101.0.0/24", GatewayIP: "127.102.0.1"}}, "gateway_ip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Config{Subnets: tt.subnets}, nil)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("New: %v, want accepted", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("New: err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestDefaultSubnet(t *testing.T) {
	d := newDriver(t, Config{})
	ctx := context.Background()
	subnets, err := d.ListSubnets(ctx)
	if err != nil || len(subnets) != 1 || subnets[0].ID != DefaultSubnetID || subnets[0].CIDR != DefaultCIDR || subnets[0].NetworkID != DefaultNetworkID {
		t.Fatalf("ListSubnets = %+v, %v; want the default %s", subnets, err, DefaultCIDR)
	}
	vip, err := d.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "lb-1"})
	if err != nil {
		t.Fatal(err)
	}
	// .0 is the network, .1 the gateway: the first VIP is .2.
	if vip.Address != "127.100.0.2" || vip.SubnetID != DefaultSubnetID {
		t.Fatalf("vip = %+v, want 127.100.0.2 on the default subnet", vip)
	}
}

func TestRequestedAddressValidation(t *testing.T) {
	d := newDriver(t, Config{Subnets: []network.Subnet{{ID: "s", NetworkID: "n", CIDR: "127.101.0.0/29", GatewayIP: "127.101.0.1"}}})
	ctx := context.Background()
	if _, err := d.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "owner", SubnetID: "s", Address: "127.101.0.5"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		address string
		want    error
	}{
		{"127.101.0.0", network.ErrInvalidAddress}, // network address
		{"127.101.0.7", network.ErrInvalidAddress}, // broadcast
		{"127.101.0.1", network.ErrInvalidAddress}, // gateway
		{"127.101.0.8", network.ErrInvalidAddress}, // outside
		{"127.0.0.1", network.ErrInvalidAddress},
		{"::1", network.ErrInvalidAddress},
		{"", nil},
		{"127.101.0.5", network.ErrAddressInUse},
		{"127.101.0.6", nil},
	}
	for i, tt := range tests {
		lb := "lb-" + string(rune('a'+i))
		vip, err := d.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: lb, SubnetID: "s", Address: tt.address})
		if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
			t.Errorf("address %q: err = %v, want %v", tt.address, err, tt.want)
		}
		if err == nil && tt.address != "" && vip.Address != tt.address {
			t.Errorf("address %q: got %s", tt.address, vip.Address)
		}
	}
	// Refused requests held nothing: .3 and .4 are the only free hosts left
	// (.2 went to the free allocation, .5 and .6 were asked for).
	for _, want := range []string{"127.101.0.3", "127.101.0.4"} {
		vip, err := d.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "free-" + want, SubnetID: "s"})
		if err != nil || vip.Address != want {
			t.Fatalf("free allocation = %+v, %v; want %s", vip, err, want)
		}
	}
}

func TestExhaustionAndRelease(t *testing.T) {
	d := newDriver(t, Config{Subnets: []network.Subnet{{ID: "s", NetworkID: "n", CIDR: "127.101.0.0/30"}}})
	ctx := context.Background()
	// A /30 has two host addresses.
	a, err := d.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "a", SubnetID: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "b", SubnetID: "s"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "c", SubnetID: "s"}); !errors.Is(err, network.ErrNoFreeAddress) {
		t.Fatalf("third allocation: err = %v, want ErrNoFreeAddress", err)
	}
	// Releasing with another port id is a no-op.
	if err := d.ReleaseVIP(ctx, "a", "not-its-port"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "c", SubnetID: "s"}); !errors.Is(err, network.ErrNoFreeAddress) {
		t.Fatalf("after a release of the wrong port: err = %v, want ErrNoFreeAddress", err)
	}
	if err := d.ReleaseVIP(ctx, "a", a.PortID); err != nil {
		t.Fatal(err)
	}
	c, err := d.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "c", SubnetID: "s"})
	if err != nil || c.Address != a.Address {
		t.Fatalf("after release: %+v, %v; want %s", c, err, a.Address)
	}
}

func TestReserveAfterRestart(t *testing.T) {
	ctx := context.Background()
	before := newDriver(t, Config{})
	held, err := before.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "lb-1"})
	if err != nil {
		t.Fatal(err)
	}
	after := newDriver(t, Config{}) // a restarted process
	for i := range 2 {
		if err := after.Reserve(ctx, "lb-1", held); err != nil {
			t.Fatalf("Reserve #%d: %v", i+1, err)
		}
	}
	if err := after.Reserve(ctx, "lb-2", held); !errors.Is(err, network.ErrAddressInUse) {
		t.Fatalf("Reserve by another LB: err = %v, want ErrAddressInUse", err)
	}
	if err := after.Reserve(ctx, "lb-3", network.VIP{Address: "127.100.0.9", SubnetID: "unknown"}); !errors.Is(err, network.ErrSubnetNotFound) {
		t.Fatalf("Reserve on an unknown subnet: err = %v, want ErrSubnetNotFound", err)
	}
	other, err := after.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "lb-2"})
	if err != nil || other.Address == held.Address {
		t.Fatalf("lb-2 got %+v (%v); %s is held by lb-1", other, err, held.Address)
	}
	again, err := after.AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "lb-1"})
	if err != nil || again != held {
		t.Fatalf("lb-1 again: %+v (%v), want %+v", again, err, held)
	}
	// The port id is a function of the LB id: the same after a restart.
	v, _ := newDriver(t, Config{}).AllocateVIP(ctx, network.VIPRequest{LoadBalancerID: "lb-1"})
	if v.PortID != held.PortID {
		t.Fatalf("port after restart = %s, want %s", v.PortID, held.PortID)
	}
}

// TestVIPNeedsNoPlumbing: an allocated VIP can be bound and reached as it is.
func TestVIPNeedsNoPlumbing(t *testing.T) {
	d := newDriver(t, Config{})
	vip, err := d.AllocateVIP(context.Background(), network.VIPRequest{LoadBalancerID: "lb-1", Address: "127.100.0.9"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(vip.Address, "0"))
	if err != nil {
		t.Fatalf("bind the VIP %s: %v", vip.Address, err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.WriteString(c, "hello from "+c.LocalAddr().String())
	}()
	c, err := net.DialTimeout("tcp", ln.Addr().String(), 2*time.Second)
	if err != nil {
		t.Fatalf("connect to the VIP: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "hello from "+ln.Addr().String() {
		t.Fatalf("read %q, %v", got, err)
	}
	if !strings.HasPrefix(ln.Addr().String(), "127.100.0.9:") {
		t.Fatalf("listening on %s, want the VIP", ln.Addr())
	}
}

func TestCanceledContext(t *testing.T) {
	d := newDriver(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.ReleaseVIP(ctx, "lb", "port"); !errors.Is(err, context.Canceled) {
		t.Errorf("ReleaseVIP: %v", err)
	}
	if _, err := d.GetSubnet(ctx, DefaultSubnetID); !errors.Is(err, context.Canceled) {
		t.Errorf("GetSubnet: %v", err)
	}
	if _, err := d.ListSubnets(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("ListSubnets: %v", err)
	}
}
