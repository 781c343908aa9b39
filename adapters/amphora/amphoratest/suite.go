// Package amphoratest is the conformance suite every amphora.Driver passes.
package amphoratest

import (
	"context"
	"errors"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/amphora"
	"github.com/octavia-es/octavia-es/events"
)

// NewAmphora returns a driver and an amphora it can reach (for a real
// driver: booted by the test, deleted in t.Cleanup), with no configuration.
type NewAmphora func(t *testing.T) (amphora.Driver, events.Amphora)

// VIP is the VIP the suite plugs; real drivers' tests must make its subnet
// usable (the noop network driver's default subnet).
var VIP = amphora.VIP{
	Address:    "127.100.0.2",
	PortID:     "5d8f2a1c-0000-4000-8000-000000000001",
	SubnetID:   "a1f0c9d2-7b3e-4c55-9a1d-1e2f3a4b5c6d",
	NetworkID:  "b2e1d0c3-8c4f-4d66-8b2e-2f3a4b5c6d7e",
	SubnetCIDR: "127.100.0.0/16",
	GatewayIP:  "127.100.0.1",
}

// Run runs the suite.
func Run(t *testing.T, newAmphora NewAmphora) {
	tests := []struct {
		name string
		fn   func(*testing.T, amphora.Driver, events.Amphora)
	}{
		{"GetInfo", testGetInfo},
		{"PlugVIPIsIdempotent", testPlugVIP},
		{"UpdateConfigEmpty", testEmpty},
		{"UpdateConfigGraphIsIdempotent", testGraph},
		{"UpdateConfigRemovesListeners", testRemove},
		{"StaleConfigIsHarmless", testStale},
		{"CanceledContext", testCanceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, amp := newAmphora(t)
			tt.fn(t, d, amp)
		})
	}
}

func ptr[T any](v T) *T { return &v }

// Graph returns a configuration with one HTTP listener, its pool, two
// members and a health monitor, on the suite's VIP.
func Graph(version int64, port int) amphora.Config {
	const lb, listener, pool = "1b2c3d4e-0000-4000-8000-0000000000a1", "1b2c3d4e-0000-4000-8000-0000000000b1", "1b2c3d4e-0000-4000-8000-0000000000c1"
	return amphora.Config{
		Version: version,
		LoadBalancer: events.LoadBalancer{
			ID: lb, ProjectID: "p", AdminStateUp: true, Provider: "amphora",
			VipAddress: ptr(VIP.Address), VipPortID: ptr(VIP.PortID), VipSubnetID: ptr(VIP.SubnetID), VipNetworkID: ptr(VIP.NetworkID),
		},
		Listeners: []events.Listener{{
			ID: listener, ProjectID: "p", LoadBalancerID: lb, AdminStateUp: true, Protocol: "HTTP", ProtocolPort: port,
			ConnectionLimit: -1, DefaultPoolID: ptr(pool), TimeoutClientData: 50000, TimeoutMemberConnect: 5000,
			TimeoutMemberData: 50000, TimeoutTCPInspect: 0,
		}},
		Pools: []events.Pool{{
			ID: pool, ProjectID: "p", LoadBalancerID: lb, ListenerID: listener, AdminStateUp: true,
			Protocol: "HTTP", LBAlgorithm: "ROUND_ROBIN",
		}},
		Members: []events.Member{
			{ID: "1b2c3d4e-0000-4000-8000-0000000000d1", ProjectID: "p", PoolID: pool, AdminStateUp: true, Address: "127.0.0.1", ProtocolPort: 18081, Weight: 1},
			{ID: "1b2c3d4e-0000-4000-8000-0000000000d2", ProjectID: "p", PoolID: pool, AdminStateUp: true, Address: "127.0.0.1", ProtocolPort: 18082, Weight: 1},
		},
		HealthMonitors: []events.HealthMonitor{{
			ID: "1b2c3d4e-0000-4000-8000-0000000000e1", ProjectID: "p", PoolID: pool, AdminStateUp: true,
			Type: "HTTP", Delay: 5, Timeout: 3, MaxRetries: 3, MaxRetriesDown: 3,
			HTTPMethod: ptr("GET"), URLPath: ptr("/"), ExpectedCodes: ptr("200"),
		}},
	}
}

func testGetInfo(t *testing.T, d amphora.Driver, amp events.Amphora) {
	info, err := d.GetInfo(context.Background(), amp)
	if err != nil {
		t.Fatalf("GetInfo: %v", err)
	}
	if info.APIVersion == "" || info.Hostname == "" {
		t.Fatalf("GetInfo = %+v, want an api version and a hostname", info)
	}
}

func testPlugVIP(t *testing.T, d amphora.Driver, amp events.Amphora) {
	for i := range 2 {
		if err := d.PlugVIP(context.Background(), amp, VIP); err != nil {
			t.Fatalf("PlugVIP #%d: %v", i+1, err)
		}
	}
}

func testEmpty(t *testing.T, d amphora.Driver, amp events.Amphora) {
	cfg := Graph(1, 0)
	cfg.Listeners, cfg.Pools, cfg.Members, cfg.HealthMonitors = nil, nil, nil, nil
	if err := d.UpdateConfig(context.Background(), amp, cfg); err != nil {
		t.Fatalf("UpdateConfig without listeners: %v", err)
	}
}

func testGraph(t *testing.T, d amphora.Driver, amp events.Amphora) {
	ctx := context.Background()
	if err := d.PlugVIP(ctx, amp, VIP); err != nil {
		t.Fatalf("PlugVIP: %v", err)
	}
	for i := range 2 {
		if err := d.UpdateConfig(ctx, amp, Graph(2, 18080)); err != nil {
			t.Fatalf("UpdateConfig #%d: %v", i+1, err)
		}
	}
}

func testRemove(t *testing.T, d amphora.Driver, amp events.Amphora) {
	ctx := context.Background()
	if err := d.PlugVIP(ctx, amp, VIP); err != nil {
		t.Fatalf("PlugVIP: %v", err)
	}
	if err := d.UpdateConfig(ctx, amp, Graph(2, 18080)); err != nil {
		t.Fatalf("UpdateConfig: %v", err)
	}
	empty := Graph(3, 0)
	empty.Listeners, empty.Pools, empty.Members, empty.HealthMonitors = nil, nil, nil, nil
	if err := d.UpdateConfig(ctx, amp, empty); err != nil {
		t.Fatalf("UpdateConfig removing every listener: %v", err)
	}
}

func testStale(t *testing.T, d amphora.Driver, amp events.Amphora) {
	ctx := context.Background()
	if err := d.PlugVIP(ctx, amp, VIP); err != nil {
		t.Fatalf("PlugVIP: %v", err)
	}
	if err := d.UpdateConfig(ctx, amp, Graph(5, 18080)); err != nil {
		t.Fatalf("UpdateConfig: %v", err)
	}
	if err := d.UpdateConfig(ctx, amp, Graph(4, 18080)); err != nil {
		t.Fatalf("UpdateConfig with an older version: %v, want success (kept newer)", err)
	}
}

func testCanceled(t *testing.T, d amphora.Driver, amp events.Amphora) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.UpdateConfig(ctx, amp, Graph(1, 18080)); !errors.Is(err, context.Canceled) {
		t.Fatalf("UpdateConfig with a canceled context: err = %v, want context.Canceled", err)
	}
}
