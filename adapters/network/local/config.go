package local

import (
	"github.com/octavia-es/octavia-es/adapters/network"
	"github.com/octavia-es/octavia-es/adapters/network/internal/vipalloc"
)

// The embedded default subnet (the same as the noop driver's).
const (
	DefaultSubnetID  = vipalloc.DefaultSubnetID
	DefaultNetworkID = vipalloc.DefaultNetworkID
	DefaultCIDR      = vipalloc.DefaultCIDR
)

// Config configures the local network driver.
type Config struct {
	// Subnets VIPs are allocated on, each inside 127.0.0.0/8, not containing
	// 127.0.0.1 and not overlapping another; empty means DefaultConfig's.
	Subnets []network.Subnet `yaml:"subnets"`
	// Ledger holds the allocations; nil means one in this process's memory
	// (adapters/network/pgledger is one that processes share).
	Ledger vipalloc.Ledger `yaml:"-"`
}

// DefaultConfig is the embedded default: one loopback subnet, 127.100.0.0/16.
func DefaultConfig() Config { return Config{Subnets: vipalloc.DefaultSubnets()} }
