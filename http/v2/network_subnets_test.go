package v2_test

import (
	"context"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/network/noop"
	v2 "github.com/octavia-es/octavia-es/http/v2"
)

func TestNetworkSubnetsAdapter(t *testing.T) {
	d, err := noop.New(noop.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	s := v2.NetworkSubnets(d)
	ctx := context.Background()
	got, found, err := s.GetSubnet(ctx, noop.DefaultSubnetID)
	if err != nil || !found {
		t.Fatalf("GetSubnet: %v %v", found, err)
	}
	want := v2.Subnet{ID: noop.DefaultSubnetID, Name: noop.DefaultSubnetName, NetworkID: noop.DefaultNetworkID,
		CIDR: noop.DefaultCIDR, GatewayIP: noop.DefaultGatewayIP, IPVersion: 4}
	if got != want {
		t.Errorf("subnet %+v, want %+v", got, want)
	}
	if _, found, err := s.GetSubnet(ctx, unknownID); found || err != nil {
		t.Errorf("unknown subnet: found %v err %v", found, err)
	}
	all, err := s.ListSubnets(ctx)
	if err != nil || len(all) != 1 || all[0] != want {
		t.Errorf("ListSubnets: %+v %v", all, err)
	}
}
