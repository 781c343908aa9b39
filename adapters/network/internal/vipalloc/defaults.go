package vipalloc

import "github.com/octavia-es/octavia-es/adapters/network"

// The embedded default subnet both drivers serve with no configuration:
// loopback addresses, so a local amphora can bind VIPs without touching the
// host's network configuration.
const (
	DefaultSubnetID   = "a1f0c9d2-7b3e-4c55-9a1d-1e2f3a4b5c6d"
	DefaultSubnetName = "octavia-es-vip"
	DefaultNetworkID  = "b2e1d0c3-8c4f-4d66-8b2e-2f3a4b5c6d7e"
	DefaultCIDR       = "127.100.0.0/16"
	DefaultGatewayIP  = "127.100.0.1"
)

// DefaultSubnets is the embedded default: one loopback subnet.
func DefaultSubnets() []network.Subnet {
	return []network.Subnet{{
		ID:        DefaultSubnetID,
		Name:      DefaultSubnetName,
		NetworkID: DefaultNetworkID,
		CIDR:      DefaultCIDR,
		GatewayIP: DefaultGatewayIP,
		IPVersion: 4,
	}}
}
