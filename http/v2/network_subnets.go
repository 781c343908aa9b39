package v2

import (
	"context"
	"errors"

	"github.com/octavia-es/octavia-es/adapters/network"
)

// NetworkSubnets adapts a network driver's subnet catalogue to Subnets.
func NetworkSubnets(d network.Driver) Subnets { return networkSubnets{d} }

type networkSubnets struct{ d network.Driver }

func (n networkSubnets) GetSubnet(ctx context.Context, id string) (Subnet, bool, error) {
	s, err := n.d.GetSubnet(ctx, id)
	if errors.Is(err, network.ErrSubnetNotFound) {
		return Subnet{}, false, nil
	}
	if err != nil {
		return Subnet{}, false, err
	}
	return fromNetwork(s), true, nil
}

func (n networkSubnets) ListSubnets(ctx context.Context) ([]Subnet, error) {
	all, err := n.d.ListSubnets(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Subnet, len(all))
	for i, s := range all {
		out[i] = fromNetwork(s)
	}
	return out, nil
}

func fromNetwork(s network.Subnet) Subnet {
	return Subnet{ID: s.ID, Name: s.Name, NetworkID: s.NetworkID, CIDR: s.CIDR, GatewayIP: s.GatewayIP,
		IPVersion: s.IPVersion, ProjectID: s.ProjectID}
}
