package v2_test

import (
	"net/http"
	"reflect"
	"testing"
)

func TestNeutronSubnets(t *testing.T) {
	e := newEnv(t)
	byID := e.do(http.MethodGet, "/v2.0/subnets?id="+subnetID, "").expectStatus(200).json()
	subnets := byID["subnets"].([]any)
	if len(subnets) != 1 {
		t.Fatalf("subnets %v", byID)
	}
	s := subnets[0].(map[string]any)
	want := map[string]any{
		"id": subnetID, "name": "vip", "network_id": networkID, "cidr": "10.0.0.0/24", "ip_version": float64(4),
		"gateway_ip": "10.0.0.1", "project_id": "admin", "tenant_id": "admin", "enable_dhcp": true,
		"allocation_pools": []any{map[string]any{"start": "10.0.0.2", "end": "10.0.0.254"}},
	}
	for k, v := range want {
		if !reflect.DeepEqual(s[k], v) {
			t.Errorf("%s = %#v, want %#v", k, s[k], v)
		}
	}
	for query, n := range map[string]int{"": 3, "?name=vip6": 1, "?name=nope": 0, "?network_id=" + networkID: 2,
		"?id=" + subnetID + "&id=" + subnet6ID: 2, "?ip_version=6": 1} {
		got := e.do(http.MethodGet, "/v2.0/subnets"+query, "").expectStatus(200).json()["subnets"].([]any)
		if len(got) != n {
			t.Errorf("%q: %d subnets, want %d", query, len(got), n)
		}
	}
	one := e.do(http.MethodGet, "/v2.0/subnets/"+subnet6ID, "").expectStatus(200).obj("subnet")
	if one["gateway_ip"] != nil || one["ip_version"] != float64(6) {
		t.Errorf("subnet %v", one)
	}
	nf := e.do(http.MethodGet, "/v2.0/subnets/"+unknownID, "").expectStatus(404).json()
	wantNF := map[string]any{"NeutronError": map[string]any{"type": "SubnetNotFound",
		"message": "Subnet " + unknownID + " could not be found.", "detail": ""}}
	if !reflect.DeepEqual(nf, wantNF) {
		t.Errorf("404 %v", nf)
	}
	e.do(http.MethodGet, "/v2/subnets", "").expectPecan(404, "")
}

func TestNeutronNetworksPortsQos(t *testing.T) {
	e := newEnv(t)
	nets := e.do(http.MethodGet, "/v2.0/networks?id="+networkID, "").expectStatus(200).json()["networks"].([]any)
	if len(nets) != 1 || !reflect.DeepEqual(nets[0].(map[string]any)["subnets"], []any{subnetID, subnet6ID}) {
		t.Errorf("networks %v", nets)
	}
	e.do(http.MethodGet, "/v2.0/networks/"+networkID, "").expectStatus(200)
	e.do(http.MethodGet, "/v2.0/networks/"+unknownID, "").expectStatus(404)
	if ports := e.do(http.MethodGet, "/v2.0/ports?id=x", "").expectStatus(200).json()["ports"].([]any); len(ports) != 0 {
		t.Errorf("ports %v", ports)
	}
	e.do(http.MethodGet, "/v2.0/qos/policies?name=x", "").expectStatus(200)
	e.do(http.MethodGet, "/v2.0/ports/"+unknownID, "").expectStatus(404)
}

func TestProvidersFlavorsZones(t *testing.T) {
	e := newEnv(t)
	providers := e.do(http.MethodGet, "/v2/lbaas/providers", "").expectStatus(200).json()["providers"].([]any)
	want := []any{
		map[string]any{"name": "amphora", "description": "The Octavia Amphora driver."},
		map[string]any{"name": "octavia", "description": "Deprecated alias of the Octavia Amphora driver."},
	}
	if !reflect.DeepEqual(providers, want) {
		t.Errorf("providers %v", providers)
	}
	if f := e.do(http.MethodGet, "/v2.0/lbaas/flavors?name=x", "").expectStatus(200).json(); len(f["flavors"].([]any)) != 0 {
		t.Errorf("flavors %v", f)
	}
	e.do(http.MethodGet, "/v2.0/lbaas/flavors/"+unknownID, "").expectFault(404, "Flavor "+unknownID+" not found.")
	e.do(http.MethodGet, "/v2.0/lbaas/availabilityzones", "").expectStatus(200)
	e.do(http.MethodGet, "/v2.0/lbaas/availabilityzones/az1", "").expectFault(404, "Availability Zone az1 not found.")
}
