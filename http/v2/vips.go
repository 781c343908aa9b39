package v2

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/octavia-es/octavia-es/adapters/network"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/http/fault"
)

// VIPs reserves and frees load balancer VIPs: the network driver
// (network.Driver satisfies it). Octavia allocates the VIP port inside the
// load balancer POST, so its 201 already carries the VIP; so do we.
type VIPs interface {
	// AllocateVIP reserves a VIP; errors wrap network.ErrSubnetNotFound,
	// ErrAddressInUse, ErrNoFreeAddress or ErrInvalidAddress when the
	// request cannot be served.
	AllocateVIP(ctx context.Context, req network.VIPRequest) (network.VIP, error)
	// ReleaseVIP frees it again; an unknown port is not an error.
	ReleaseVIP(ctx context.Context, loadBalancerID, portID string) error
}

// releaseTimeout bounds the release of a VIP whose create was refused; it
// runs even when the client has gone.
const releaseTimeout = 10 * time.Second

// allocateVIP reserves the VIP of a new load balancer (nil when no VIPs
// are wired: the create saga allocates it then).
func (a *API) allocateVIP(ctx context.Context, lb events.LoadBalancer) (*events.VipAllocated, *fault.Error) {
	if a.vips == nil {
		return nil, nil
	}
	vip, err := a.vips.AllocateVIP(ctx, network.VIPRequest{
		LoadBalancerID: lb.ID,
		SubnetID:       deref(lb.VipSubnetID),
		Address:        deref(lb.VipAddress),
		NetworkID:      deref(lb.VipNetworkID),
	})
	if err != nil {
		return nil, a.vipError(ctx, lb, err)
	}
	return &events.VipAllocated{
		LoadBalancerID: lb.ID, VipAddress: vip.Address, VipPortID: vip.PortID,
		VipSubnetID: vip.SubnetID, VipNetworkID: vip.NetworkID,
	}, nil
}

// vipError is Octavia's answer to a failed VIP allocation: the code and
// message of Neutron's refusal (_create_vip_port_if_not_exist passes them
// on), or a 500.
func (a *API) vipError(ctx context.Context, lb events.LoadBalancer, err error) *fault.Error {
	address, subnet, net := deref(lb.VipAddress), deref(lb.VipSubnetID), deref(lb.VipNetworkID)
	switch {
	case errors.Is(err, network.ErrAddressInUse):
		return fault.New(http.StatusConflict, "IP address %s already allocated in subnet %s.", address, subnet)
	case errors.Is(err, network.ErrInvalidAddress):
		return fault.BadRequest("IP address %s is not a valid IP for the specified subnet.", address)
	case errors.Is(err, network.ErrNoFreeAddress):
		return fault.New(http.StatusConflict, "No more IP addresses available on network %s.", net)
	case errors.Is(err, network.ErrSubnetNotFound):
		return fault.BadRequest("Subnet %s not found.", subnet)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return unavailable("The VIP could not be allocated in time; retry the request.")
	default:
		return a.internal(ctx, "allocate VIP", err)
	}
}

// releaseVIP frees a VIP allocated for a create that was not recorded. A
// failure is logged only: the address stays reserved, which is safe.
func (a *API) releaseVIP(ctx context.Context, vip *events.VipAllocated) {
	if vip == nil || a.vips == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	if err := a.vips.ReleaseVIP(ctx, vip.LoadBalancerID, vip.VipPortID); err != nil {
		a.log.WarnContext(ctx, "v2: release VIP of a refused create", "loadbalancer_id", vip.LoadBalancerID,
			"vip_port_id", vip.VipPortID, "err", err)
	}
}

// createRecorded tells whether a create whose Execute failed was stored
// anyway (a failure after the append): then its VIP belongs to it and the
// saga or a delete releases it. A refusal was never stored; when the
// stream cannot be read the answer is yes, as holding an address too long
// is safe and handing out one in use is not.
func (a *API) createRecorded(ctx context.Context, lbID string, err error) bool {
	var refused *loadbalancer.Error
	if errors.As(err, &refused) {
		return false
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	s, lerr := a.commands.Load(ctx, lbID)
	if lerr != nil {
		a.log.WarnContext(ctx, "v2: cannot tell whether a failed create was stored; its VIP stays reserved",
			"loadbalancer_id", lbID, "err", lerr)
		return true
	}
	return s.Exists
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
