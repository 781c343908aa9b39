// Package vipalloc is the VIP bookkeeping the noop and local network drivers
// share: subnets parsed from configuration, addresses allocated from their
// CIDR (or the one asked for, validated), held per load balancer, released,
// and re-populated after a restart with Reserve. Port ids are a function of
// the load balancer id, so a VIP allocated again after a restart keeps its
// port. State is in memory; the drivers add I/O, faults and plumbing.
package vipalloc

import (
	"fmt"
	"net/netip"
	"sync"

	"github.com/google/uuid"

	"github.com/octavia-es/octavia-es/adapters/network"
)

// portNamespace makes VIP port ids a function of the load balancer id. Both
// drivers use it, so switching driver keeps port ids.
var portNamespace = uuid.MustParse("6f1d3c2a-5b4e-4f7a-9c8d-0e1f2a3b4c5d")

// PortID is the port id of a load balancer's VIP when none is asked for.
func PortID(loadBalancerID string) string {
	return uuid.NewSHA1(portNamespace, []byte(loadBalancerID)).String()
}

type subnet struct {
	network.Subnet
	prefix  netip.Prefix
	gateway netip.Addr // zero: none
	cursor  netip.Addr // where the next scan for a free address starts
}

// Allocator holds the subnets and the VIPs allocated on them. Safe for
// concurrent use.
type Allocator struct {
	subnets []*subnet
	byID    map[string]*subnet

	mu    sync.Mutex
	byLB  map[string]network.VIP           // load balancer id -> its VIP
	used  map[string]map[netip.Addr]string // subnet id -> address -> load balancer id
	ports map[string]string                // port id -> load balancer id
}

// New returns an allocator serving subnets, validated and normalised (CIDR
// masked, ip_version derived from it). check, when not nil, may refuse a
// parsed subnet (a driver's own constraint, such as loopback only).
func New(subnets []network.Subnet, check func(network.Subnet, netip.Prefix) error) (*Allocator, error) {
	a := &Allocator{
		byID:  map[string]*subnet{},
		byLB:  map[string]network.VIP{},
		used:  map[string]map[netip.Addr]string{},
		ports: map[string]string{},
	}
	for i, s := range subnets {
		sn, err := parseSubnet(s)
		if err == nil && check != nil {
			err = check(sn.Subnet, sn.prefix)
		}
		if err != nil {
			return nil, fmt.Errorf("subnet %d (%q): %w", i, s.ID, err)
		}
		if _, dup := a.byID[sn.ID]; dup {
			return nil, fmt.Errorf("duplicate subnet id %q", sn.ID)
		}
		a.subnets = append(a.subnets, sn)
		a.byID[sn.ID] = sn
		a.used[sn.ID] = map[netip.Addr]string{}
	}
	return a, nil
}

func parseSubnet(s network.Subnet) (*subnet, error) {
	if s.ID == "" {
		return nil, fmt.Errorf("missing id")
	}
	prefix, err := netip.ParsePrefix(s.CIDR)
	if err != nil {
		return nil, fmt.Errorf("cidr: %w", err)
	}
	prefix = prefix.Masked()
	s.CIDR = prefix.String()
	version := 4
	if prefix.Addr().Is6() {
		version = 6
	}
	if s.IPVersion == 0 {
		s.IPVersion = version
	}
	if s.IPVersion != version {
		return nil, fmt.Errorf("ip_version %d does not match cidr %s", s.IPVersion, s.CIDR)
	}
	sn := &subnet{Subnet: s, prefix: prefix, cursor: prefix.Addr()}
	if s.GatewayIP != "" {
		gw, err := netip.ParseAddr(s.GatewayIP)
		if err != nil {
			return nil, fmt.Errorf("gateway_ip: %w", err)
		}
		if !prefix.Contains(gw) {
			return nil, fmt.Errorf("gateway_ip %s outside %s", gw, prefix)
		}
		sn.gateway = gw
	}
	return sn, nil
}

// Allocate reserves a VIP for req.LoadBalancerID, or returns the one it
// already holds (network.Driver.AllocateVIP's contract, without the I/O).
func (a *Allocator) Allocate(req network.VIPRequest) (network.VIP, error) {
	if req.LoadBalancerID == "" {
		return network.VIP{}, fmt.Errorf("allocate VIP: missing load balancer id")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if vip, ok := a.byLB[req.LoadBalancerID]; ok {
		return vip, nil
	}
	sn, err := a.pickSubnet(req)
	if err != nil {
		return network.VIP{}, err
	}
	portID := req.PortID
	if portID == "" {
		portID = PortID(req.LoadBalancerID)
	}
	if owner, ok := a.ports[portID]; ok && owner != req.LoadBalancerID {
		return network.VIP{}, fmt.Errorf("port %s: %w", portID, network.ErrAddressInUse)
	}
	var addr netip.Addr
	if req.Address != "" {
		if addr, err = a.requested(sn, req.Address, req.LoadBalancerID); err != nil {
			return network.VIP{}, err
		}
	} else if addr, err = a.free(sn); err != nil {
		return network.VIP{}, err
	}
	vip := network.VIP{Address: addr.String(), PortID: portID, SubnetID: sn.ID, NetworkID: sn.NetworkID}
	a.hold(req.LoadBalancerID, sn, addr, vip)
	return vip, nil
}

// Reserve re-populates the allocation state after a restart with a VIP the
// events say is held by loadBalancerID. Reserving the same VIP again is not
// an error; an address held by another load balancer is ErrAddressInUse.
func (a *Allocator) Reserve(loadBalancerID string, vip network.VIP) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	sn, ok := a.byID[vip.SubnetID]
	if !ok {
		return fmt.Errorf("reserve %s: %w", vip.SubnetID, network.ErrSubnetNotFound)
	}
	addr, err := netip.ParseAddr(vip.Address)
	if err != nil || !sn.prefix.Contains(addr) {
		return fmt.Errorf("reserve %q on %s: %w", vip.Address, sn.CIDR, network.ErrInvalidAddress)
	}
	if owner, ok := a.used[sn.ID][addr]; ok && owner != loadBalancerID {
		return fmt.Errorf("reserve %s: %w", addr, network.ErrAddressInUse)
	}
	if held, ok := a.byLB[loadBalancerID]; ok {
		a.unhold(loadBalancerID, held)
	}
	if vip.NetworkID == "" {
		vip.NetworkID = sn.NetworkID
	}
	a.hold(loadBalancerID, sn, addr, vip)
	return nil
}

// Release frees the VIP of loadBalancerID if it is held on portID and
// returns it; anything else (unknown, already released) is a no-op.
func (a *Allocator) Release(loadBalancerID, portID string) (network.VIP, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	vip, ok := a.byLB[loadBalancerID]
	if !ok || vip.PortID != portID {
		return network.VIP{}, false
	}
	a.unhold(loadBalancerID, vip)
	return vip, true
}

// Subnet returns a subnet by id, or ErrSubnetNotFound.
func (a *Allocator) Subnet(id string) (network.Subnet, error) {
	sn, ok := a.byID[id]
	if !ok {
		return network.Subnet{}, fmt.Errorf("subnet %s: %w", id, network.ErrSubnetNotFound)
	}
	return sn.Subnet, nil
}

// Subnets returns every subnet, in configuration order.
func (a *Allocator) Subnets() []network.Subnet {
	out := make([]network.Subnet, len(a.subnets))
	for i, sn := range a.subnets {
		out[i] = sn.Subnet
	}
	return out
}

func (a *Allocator) pickSubnet(req network.VIPRequest) (*subnet, error) {
	if req.SubnetID != "" {
		sn, ok := a.byID[req.SubnetID]
		if !ok {
			return nil, fmt.Errorf("subnet %s: %w", req.SubnetID, network.ErrSubnetNotFound)
		}
		if req.NetworkID != "" && req.NetworkID != sn.NetworkID {
			return nil, fmt.Errorf("subnet %s on network %s: %w", req.SubnetID, req.NetworkID, network.ErrSubnetNotFound)
		}
		return sn, nil
	}
	for _, sn := range a.subnets {
		if req.NetworkID == "" || sn.NetworkID == req.NetworkID {
			return sn, nil
		}
	}
	return nil, fmt.Errorf("a subnet on network %q: %w", req.NetworkID, network.ErrSubnetNotFound)
}

func (a *Allocator) requested(sn *subnet, address, lbID string) (netip.Addr, error) {
	addr, err := netip.ParseAddr(address)
	if err != nil || !sn.usable(addr) {
		return netip.Addr{}, fmt.Errorf("%q on %s: %w", address, sn.CIDR, network.ErrInvalidAddress)
	}
	if owner, ok := a.used[sn.ID][addr]; ok && owner != lbID {
		return netip.Addr{}, fmt.Errorf("%s: %w", addr, network.ErrAddressInUse)
	}
	return addr, nil
}

// free scans from the subnet's cursor, wrapping once, for an unused address.
func (a *Allocator) free(sn *subnet) (netip.Addr, error) {
	start := sn.cursor
	addr := start
	for {
		addr = addr.Next()
		if !addr.IsValid() || !sn.prefix.Contains(addr) {
			addr = sn.prefix.Addr()
		}
		if sn.usable(addr) {
			if _, taken := a.used[sn.ID][addr]; !taken {
				sn.cursor = addr
				return addr, nil
			}
		}
		if addr == start {
			return netip.Addr{}, fmt.Errorf("%s: %w", sn.CIDR, network.ErrNoFreeAddress)
		}
	}
}

// usable: a host address of the subnet (not its network address, IPv4
// broadcast or gateway).
func (sn *subnet) usable(addr netip.Addr) bool {
	if !sn.prefix.Contains(addr) || addr == sn.prefix.Addr() || addr == sn.gateway {
		return false
	}
	if addr.Is4() {
		next := addr.Next()
		if !next.IsValid() || !sn.prefix.Contains(next) {
			return false // broadcast
		}
	}
	return true
}

func (a *Allocator) hold(lbID string, sn *subnet, addr netip.Addr, vip network.VIP) {
	a.byLB[lbID] = vip
	a.used[sn.ID][addr] = lbID
	a.ports[vip.PortID] = lbID
}

func (a *Allocator) unhold(lbID string, vip network.VIP) {
	delete(a.byLB, lbID)
	delete(a.ports, vip.PortID)
	if addr, err := netip.ParseAddr(vip.Address); err == nil {
		delete(a.used[vip.SubnetID], addr)
	}
}
