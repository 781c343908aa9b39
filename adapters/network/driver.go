// Package network is the network capability as Octavia splits it
// (octavia/network/base.py): reserve and free a load balancer's VIP, and
// look subnets up. Drivers live in sub-packages (noop, later local and
// neutron) and all pass the suite in networktest. Adapters import no
// commands, sagas, projections or http.
package network

import (
	"context"
	"errors"
)

// Errors a Driver returns (wrapped; test with errors.Is). They are
// permanent: retrying the same request cannot succeed.
var (
	// ErrSubnetNotFound: the subnet (or the network's subnets) named by a
	// request does not exist.
	ErrSubnetNotFound = errors.New("network: subnet not found")
	// ErrAddressInUse: the requested VIP address belongs to another load
	// balancer (Octavia's VIPInUseException).
	ErrAddressInUse = errors.New("network: address already in use")
	// ErrNoFreeAddress: the subnet has no address left to allocate.
	ErrNoFreeAddress = errors.New("network: no free address in subnet")
	// ErrInvalidAddress: the requested address is not a usable host address
	// of the subnet (outside its CIDR, its network, broadcast or gateway).
	ErrInvalidAddress = errors.New("network: address not valid for subnet")
)

// Subnet is a subnet a VIP can be allocated on. JSON names are Neutron's,
// so the HTTP layer can answer Neutron's subnet look-ups with it.
type Subnet struct {
	ID        string `json:"id" yaml:"id"`
	Name      string `json:"name" yaml:"name"`
	NetworkID string `json:"network_id" yaml:"network_id"`
	CIDR      string `json:"cidr" yaml:"cidr"`
	GatewayIP string `json:"gateway_ip" yaml:"gateway_ip"` // "" = no gateway
	IPVersion int    `json:"ip_version" yaml:"ip_version"`
	ProjectID string `json:"project_id" yaml:"project_id"`
}

// VIPRequest is what the tenant asked for (vip_subnet_id, vip_address,
// vip_port_id, vip_network_id); every field but LoadBalancerID is optional.
// With no SubnetID the driver picks a subnet of NetworkID.
type VIPRequest struct {
	LoadBalancerID string
	SubnetID       string
	Address        string
	PortID         string
	NetworkID      string
}

// VIP is an allocated VIP.
type VIP struct {
	Address   string
	PortID    string
	SubnetID  string
	NetworkID string
}

// Driver is a network driver. All methods are safe for concurrent use and
// take a context that bounds their I/O.
type Driver interface {
	// AllocateVIP reserves a VIP for a load balancer. It is idempotent per
	// load balancer: while a VIP is held for LoadBalancerID, a second call
	// returns it unchanged (a saga retried after a crash must not leak
	// addresses). Errors: ErrSubnetNotFound, ErrAddressInUse,
	// ErrNoFreeAddress, ErrInvalidAddress, or a transient failure.
	AllocateVIP(ctx context.Context, req VIPRequest) (VIP, error)

	// ReleaseVIP frees the VIP port of a load balancer. Releasing a port
	// that is unknown or already released is not an error.
	ReleaseVIP(ctx context.Context, loadBalancerID, portID string) error

	// GetSubnet returns a subnet by id, or ErrSubnetNotFound.
	GetSubnet(ctx context.Context, id string) (Subnet, error)

	// ListSubnets returns every subnet VIPs can be allocated on.
	ListSubnets(ctx context.Context) ([]Subnet, error)
}
