package noop

import (
	"github.com/octavia-es/octavia-es/adapters/network"
	"github.com/octavia-es/octavia-es/adapters/network/internal/vipalloc"
	"github.com/octavia-es/octavia-es/adapters/noopkit"
)

// The embedded default subnet: loopback addresses, so a local amphora can
// bind VIPs without touching the host's network configuration.
const (
	DefaultSubnetID   = vipalloc.DefaultSubnetID
	DefaultSubnetName = vipalloc.DefaultSubnetName
	DefaultNetworkID  = vipalloc.DefaultNetworkID
	DefaultCIDR       = vipalloc.DefaultCIDR
	DefaultGatewayIP  = vipalloc.DefaultGatewayIP
)

// Config configures the noop network driver.
type Config struct {
	// Subnets VIPs are allocated on; empty means DefaultConfig's.
	Subnets []network.Subnet `yaml:"subnets"`
	// Faults: per-call delay and injected failures (tests, e2e).
	Faults noopkit.Config `yaml:",inline"`
	// Ledger holds the allocations; nil means one in this process's memory
	// (adapters/network/pgledger is one that processes share).
	Ledger vipalloc.Ledger `yaml:"-"`
}

// DefaultConfig is the embedded default: one loopback subnet.
func DefaultConfig() Config { return Config{Subnets: vipalloc.DefaultSubnets()} }
