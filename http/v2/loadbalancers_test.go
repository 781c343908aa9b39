package v2_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/http/server"
	v2 "github.com/octavia-es/octavia-es/http/v2"
	"github.com/octavia-es/octavia-es/projections"
)

func TestCreateLoadBalancer(t *testing.T) {
	e := newEnv(t)
	resp := e.do(http.MethodPost, "/v2.0/lbaas/loadbalancers",
		`{"loadbalancer": {"name": "lb1", "vip_subnet_id": "`+subnetID+`", "tags": ["t"]}}`)
	resp.expectStatus(http.StatusCreated)
	if ct := resp.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type %q", ct)
	}
	if rid := resp.Header().Get("X-Openstack-Request-Id"); !strings.HasPrefix(rid, "req-") || len(rid) != 40 {
		t.Errorf("request id %q", rid)
	}
	lb := resp.obj("loadbalancer")
	want := map[string]any{
		"id": newID, "name": "lb1", "description": "", "provisioning_status": "PENDING_CREATE",
		"operating_status": "OFFLINE", "admin_state_up": true, "project_id": "tenant-a", "tenant_id": "tenant-a",
		"vip_subnet_id": subnetID, "vip_network_id": networkID, "vip_address": "10.0.0.100",
		"vip_port_id": "port-" + newID, "provider": "amphora",
		"flavor_id": nil, "availability_zone": nil, "listeners": []any{}, "pools": []any{}, "tags": []any{"t"},
	}
	for k, v := range want {
		if !reflect.DeepEqual(lb[k], v) {
			t.Errorf("%s = %#v, want %#v", k, lb[k], v)
		}
	}
	call := e.cmds.LastCall()
	cmd, ok := call.Command.(loadbalancer.CreateLoadBalancer)
	if !ok || call.LoadBalancerID != newID {
		t.Fatalf("command %#v on %q", call.Command, call.LoadBalancerID)
	}
	if cmd.Spec.ID != newID || cmd.Spec.ProjectID != "tenant-a" || !cmd.Spec.AdminStateUp || cmd.Spec.Provider != "amphora" {
		t.Errorf("spec %+v", cmd.Spec)
	}
	wantVip := events.VipAllocated{LoadBalancerID: newID, VipAddress: "10.0.0.100", VipPortID: "port-" + newID,
		VipSubnetID: subnetID, VipNetworkID: networkID}
	if cmd.Vip == nil || *cmd.Vip != wantVip || cmd.Spec.VipAddress != nil {
		t.Errorf("vip %+v (spec address %v), want %+v recorded apart from the requested spec", cmd.Vip, cmd.Spec.VipAddress, wantVip)
	}
	if len(cmd.Pools) != 0 || len(cmd.Listeners) != 0 {
		t.Errorf("children %+v %+v in a plain create", cmd.Pools, cmd.Listeners)
	}
	if call.Metadata.Actor.ProjectID != "tenant-a" || call.Metadata.Actor.RequestID != resp.Header().Get("X-Openstack-Request-Id") {
		t.Errorf("metadata %+v", call.Metadata)
	}
}

func TestCreateLoadBalancerChoices(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		headers []string
		check   func(t *testing.T, spec events.LoadBalancer)
	}{
		{"body project wins", `{"loadbalancer": {"vip_subnet_id": "` + subnetID + `", "project_id": "p-body"}}`, nil,
			func(t *testing.T, s events.LoadBalancer) { expectEq(t, s.ProjectID, "p-body") }},
		{"tenant_id alias", `{"loadbalancer": {"vip_subnet_id": "` + subnetID + `", "tenant_id": "p-tenant"}}`, nil,
			func(t *testing.T, s events.LoadBalancer) { expectEq(t, s.ProjectID, "p-tenant") }},
		{"X-Tenant-Id header", `{"loadbalancer": {"vip_subnet_id": "` + subnetID + `"}}`, []string{"X-Project-Id", "", "X-Tenant-Id", "p-hdr"},
			func(t *testing.T, s events.LoadBalancer) { expectEq(t, s.ProjectID, "p-hdr") }},
		{"octavia provider alias", `{"loadbalancer": {"vip_subnet_id": "` + subnetID + `", "provider": "octavia"}}`, nil,
			func(t *testing.T, s events.LoadBalancer) { expectEq(t, s.Provider, "octavia") }},
		{"network picks its IPv4 subnet", `{"loadbalancer": {"vip_network_id": "` + networkID + `"}}`, nil,
			func(t *testing.T, s events.LoadBalancer) { expectEq(t, *s.VipSubnetID, subnetID) }},
		{"network picks the subnet of the address", `{"loadbalancer": {"vip_network_id": "` + networkID + `", "vip_address": "fd00::5"}}`, nil,
			func(t *testing.T, s events.LoadBalancer) {
				expectEq(t, *s.VipSubnetID, subnet6ID)
				expectEq(t, *s.VipAddress, "fd00::5")
			}},
		{"admin down and additional vip", `{"loadbalancer": {"vip_subnet_id": "` + subnetID + `", "admin_state_up": false, "additional_vips": [{"subnet_id": "` + subnet6ID + `"}]}}`, nil,
			func(t *testing.T, s events.LoadBalancer) {
				expectEq(t, s.AdminStateUp, false)
				expectEq(t, len(s.AdditionalVips), 1)
				expectEq(t, s.AdditionalVips[0].SubnetID, subnet6ID)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.do(http.MethodPost, "/v2/lbaas/loadbalancers", tt.body, tt.headers...).expectStatus(http.StatusCreated)
			tt.check(t, e.cmds.LastCall().Command.(loadbalancer.CreateLoadBalancer).Spec)
		})
	}
}

func expectEq[T comparable](t *testing.T, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestCreateLoadBalancerRefused(t *testing.T) {
	sub := `"vip_subnet_id": "` + subnetID + `"`
	tests := []struct {
		name    string
		body    string
		headers []string
		status  int
		want    string
	}{
		{"no project", `{"loadbalancer": {` + sub + `}}`, []string{"X-Project-Id", ""}, 400,
			"Validation failure: Missing project ID in request where one is required. An administrator should check the keystone settings in the Octavia configuration."},
		{"no vip", `{"loadbalancer": {"name": "x"}}`, nil, 400,
			"Validation failure: VIP must contain one of: vip_port_id, vip_network_id, vip_subnet_id."},
		{"unknown subnet", `{"loadbalancer": {"vip_subnet_id": "` + unknownID + `"}}`, nil, 400, "Subnet " + unknownID + " not found."},
		{"unknown network", `{"loadbalancer": {"vip_network_id": "` + unknownID + `"}}`, nil, 400, "Network " + unknownID + " not found."},
		{"subnet not in network", `{"loadbalancer": {"vip_network_id": "` + networkID + `", "vip_subnet_id": "` + otherNet + `"}}`, nil, 400,
			"Subnet " + otherNet + " not found."},
		{"address outside the network", `{"loadbalancer": {"vip_network_id": "` + networkID + `", "vip_address": "192.168.1.1"}}`, nil, 400,
			"Validation failure: Supplied network does not contain a subnet for VIP address specified."},
		{"no ports here", `{"loadbalancer": {"vip_port_id": "` + unknownID + `"}}`, nil, 400, "Port " + unknownID + " not found."},
		{"no qos here", `{"loadbalancer": {` + sub + `, "vip_qos_policy_id": "` + unknownID + `"}}`, nil, 400,
			"Validation failure: VIP QoS policy is not allowed in this deployment."},
		{"duplicate additional subnet", `{"loadbalancer": {` + sub + `, "additional_vips": [{"subnet_id": "` + subnetID + `"}]}}`, nil, 400,
			"Validation failure: Duplicate VIP subnet(s) specified. Only one IP can be bound per subnet."},
		{"additional vip on another network", `{"loadbalancer": {` + sub + `, "additional_vips": [{"subnet_id": "` + otherNet + `"}]}}`, nil, 400,
			"Validation failure: All VIP subnets must belong to the same network."},
		{"unknown flavor", `{"loadbalancer": {` + sub + `, "flavor_id": "` + unknownID + `"}}`, nil, 400, "Validation failure: Invalid flavor_id."},
		{"unknown availability zone", `{"loadbalancer": {` + sub + `, "availability_zone": "az1"}}`, nil, 400, "Validation failure: Invalid availability zone."},
		{"provider not enabled", `{"loadbalancer": {` + sub + `, "provider": "f5"}}`, nil, 400, "Provider 'f5' is not enabled."},
		{"wrong type", `{"loadbalancer": {` + sub + `, "admin_state_up": "maybe"}}`, nil, 400,
			"Invalid input for field/attribute load_balancer. Value: '{'loadbalancer': {'vip_subnet_id': '" + subnetID + "', 'admin_state_up': 'maybe'}}'. Value not an unambiguous boolean: maybe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.do(http.MethodPost, "/v2/lbaas/loadbalancers", tt.body, tt.headers...).expectFault(tt.status, tt.want)
			if n := e.cmds.CallCount(); n != 0 {
				t.Errorf("%d commands issued for a refused request", n)
			}
			if n, _ := e.vips.Counts(); n != 0 {
				t.Errorf("%d VIPs allocated for a request refused before", n)
			}
		})
	}
}

func TestNoauthDefaultProject(t *testing.T) {
	e := newEnv(t, func(c *server.Config, _ *v2.Deps) { c.NoauthDefaultProject = "default" })
	e.do(http.MethodPost, "/v2/lbaas/loadbalancers", `{"loadbalancer": {"vip_subnet_id": "`+subnetID+`"}}`, "X-Project-Id", "").
		expectStatus(http.StatusCreated)
	expectEq(t, e.cmds.LastCall().Command.(loadbalancer.CreateLoadBalancer).Spec.ProjectID, "default")
}

// TestCommandErrorMapping: the aggregate's refusals keep their message and
// map to Octavia's codes; anything else is a 500 that leaks nothing.
func TestCommandErrorMapping(t *testing.T) {
	tests := []struct {
		err    error
		status int
		want   string
	}{
		{&loadbalancer.Error{Kind: loadbalancer.Invalid, Message: "Validation failure: Cannot delete Load Balancer x - it has children"}, 400,
			"Validation failure: Cannot delete Load Balancer x - it has children"},
		{&loadbalancer.Error{Kind: loadbalancer.NotFound, Message: "Load Balancer x not found."}, 404, "Load Balancer x not found."},
		{fmt.Errorf("wrapped: %w", &loadbalancer.Error{Kind: loadbalancer.Conflict, Message: "dup"}), 409, "dup"},
		{&loadbalancer.Error{Kind: loadbalancer.Immutable, Message: "Invalid state PENDING_UPDATE of loadbalancer resource x"}, 409,
			"Invalid state PENDING_UPDATE of loadbalancer resource x"},
		{fmt.Errorf("after retries: %w", eventstore.ErrConcurrency), 409, "Load Balancer " + lbID + " is immutable and cannot be updated."},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			e := newEnv(t)
			e.activeGraph()
			e.cmds.Err = tt.err
			e.do(http.MethodPut, "/v2/lbaas/loadbalancers/"+lbID, `{"loadbalancer": {"name": "x"}}`).expectFault(tt.status, tt.want)
		})
	}
	e := newEnv(t)
	e.activeGraph()
	e.cmds.Err = errors.New("disk on fire: /var/lib/secret")
	resp := e.do(http.MethodDelete, "/v2/lbaas/loadbalancers/"+lbID, "")
	resp.expectStatus(http.StatusInternalServerError)
	if fs := resp.json()["faultstring"].(string); strings.Contains(fs, "secret") || !strings.Contains(fs, resp.Header().Get("X-Openstack-Request-Id")) {
		t.Errorf("faultstring %q", fs)
	}
}

func TestUpdateLoadBalancer(t *testing.T) {
	e := newEnv(t)
	e.activeGraph()
	resp := e.do(http.MethodPut, "/v2/lbaas/loadbalancers/"+lbID, `{"loadbalancer": {"name": "renamed", "description": null, "admin_state_up": null}}`)
	lb := resp.expectStatus(http.StatusOK).obj("loadbalancer")
	if lb["name"] != "renamed" || lb["provisioning_status"] != "PENDING_UPDATE" || lb["admin_state_up"] != false {
		t.Errorf("body %v", lb)
	}
	cmd := e.cmds.LastCall().Command.(loadbalancer.UpdateLoadBalancer)
	got := map[string]string{}
	for k, v := range cmd.Patch {
		got[k] = string(v)
	}
	want := map[string]string{"name": `"renamed"`, "description": "null", "admin_state_up": "false"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("patch %v, want %v", got, want)
	}
	e.do(http.MethodPut, "/v2/lbaas/loadbalancers/"+unknownID, `{"loadbalancer": {}}`).
		expectFault(404, "Load Balancer "+unknownID+" not found.")
	e.do(http.MethodPut, "/v2/lbaas/loadbalancers/"+lbID, `{"loadbalancer": {"vip_qos_policy_id": null}}`).
		expectFault(400, "Validation failure: VIP QoS policy is not allowed in this deployment.")
	e.do(http.MethodPut, "/v2/lbaas/loadbalancers/"+lbID, `{"loadbalancer": {"vip_subnet_id": "`+subnetID+`"}}`).
		expectFault(400, "Unknown attribute for argument load_balancer.loadbalancer: vip_subnet_id")
}

func TestDeleteAndFailover(t *testing.T) {
	e := newEnv(t)
	e.activeGraph()
	resp := e.do(http.MethodDelete, "/v2/lbaas/loadbalancers/"+lbID+"?cascade=true", "")
	resp.expectStatus(http.StatusNoContent)
	if resp.Body.Len() != 0 || resp.Header().Get("Content-Type") != "" {
		t.Errorf("204 with body %q / content type %q", resp.Body.String(), resp.Header().Get("Content-Type"))
	}
	if cmd := e.cmds.LastCall().Command.(loadbalancer.DeleteLoadBalancer); !cmd.Cascade {
		t.Error("cascade not passed")
	}
	e.do(http.MethodDelete, "/v2/lbaas/loadbalancers/"+lbID, "").expectStatus(http.StatusNoContent)
	if cmd := e.cmds.LastCall().Command.(loadbalancer.DeleteLoadBalancer); cmd.Cascade {
		t.Error("cascade without the parameter")
	}
	e.do(http.MethodDelete, "/v2/lbaas/loadbalancers/"+lbID+"?force=1", "").expectFault(400, `Unknown argument: "force"`)

	e.activeGraph()
	resp = e.do(http.MethodPut, "/v2/lbaas/loadbalancers/"+lbID+"/failover", "")
	resp.expectStatus(http.StatusAccepted)
	if resp.Body.Len() != 0 {
		t.Errorf("failover body %q", resp.Body.String())
	}
	if _, ok := e.cmds.LastCall().Command.(loadbalancer.FailoverLoadBalancer); !ok {
		t.Errorf("command %T", e.cmds.LastCall().Command)
	}
	e.do(http.MethodPut, "/v2/lbaas/loadbalancers/"+unknownID+"/failover", "").expectFault(404, "Load Balancer "+unknownID+" not found.")
}

func TestGetLoadBalancer(t *testing.T) {
	e := newEnv(t)
	e.activeGraph()
	e.events.SetHead(42)
	lb := e.do(http.MethodGet, "/v2.0/lbaas/loadbalancers/"+lbID, "").expectStatus(200).obj("loadbalancer")
	if lb["id"] != lbID || lb["provisioning_status"] != "ACTIVE" || lb["vip_address"] != "10.0.0.10" {
		t.Errorf("body %v", lb)
	}
	if w := e.read.Waited; len(w) == 0 || w[len(w)-1] != 42 {
		t.Errorf("GET did not wait for the head: %v", w)
	}
	sel := e.do(http.MethodGet, "/v2/lbaas/loadbalancers/"+lbID+"?fields=id&fields=name&fields=nope", "").expectStatus(200).obj("loadbalancer")
	if len(sel) != 2 || sel["id"] != lbID || sel["name"] != "" {
		t.Errorf("fields: %v", sel)
	}
	e.do(http.MethodGet, "/v2/lbaas/loadbalancers/"+unknownID, "").expectFault(404, "Load Balancer "+unknownID+" not found.")
}

func TestReadYourWritesTimeout(t *testing.T) {
	e := newEnv(t)
	e.activeGraph()
	e.read.Lag = true
	resp := e.do(http.MethodGet, "/v2/lbaas/loadbalancers/"+lbID, "")
	resp.expectFault(http.StatusServiceUnavailable, "The read model has not yet caught up with the latest changes; please retry.")
	if resp.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	e.do(http.MethodGet, "/v2/lbaas/loadbalancers", "").expectStatus(http.StatusServiceUnavailable)
	e.read.Lag = false
	e.events.Err = errors.New("store closed")
	e.do(http.MethodGet, "/v2/lbaas/loadbalancers", "").expectStatus(http.StatusInternalServerError)
}

func TestListLoadBalancers(t *testing.T) {
	e := newEnv(t)
	e.activeGraph()
	for _, id := range []string{"a1", "a2"} {
		v := e.read.LoadBalancers[lbID]
		v.ID = id
		e.read.LoadBalancers[id] = v
	}
	resp := e.do(http.MethodGet, "/v2/lbaas/loadbalancers?limit=2&name=x&fields=id", "").expectStatus(200)
	body := resp.json()
	items := body["loadbalancers"].([]any)
	if len(items) != 2 || len(items[0].(map[string]any)) != 1 {
		t.Fatalf("items %v", items)
	}
	links := body["loadbalancers_links"].([]any)
	want := []any{map[string]any{"rel": "next", "href": "http://octavia.test:9876/v2/lbaas/loadbalancers?limit=2&marker=a1"}}
	if !reflect.DeepEqual(links, want) {
		t.Errorf("links %v", links)
	}
	if got := e.read.LastList; got.Limit != 2 || !reflect.DeepEqual(got.Filters, map[string][]string{"name": {"x"}}) || got.ProjectID != "" {
		t.Errorf("options %+v", got)
	}
	empty := e.do(http.MethodGet, "/v2/lbaas/loadbalancers?limit=0", "").expectStatus(200).json()
	if l, ok := empty["loadbalancers_links"].([]any); !ok || len(l) != 0 {
		t.Errorf("limit=0 links %v", empty["loadbalancers_links"])
	}
	e.do(http.MethodGet, "/v2/lbaas/loadbalancers?limit=x", "").expectPecan(400, "Supplied pagination limit 'x' is not valid.")
	e.do(http.MethodGet, "/v2/lbaas/loadbalancers?sort=name:sideways", "").expectPecan(400, "Supplied sort direction 'sideways' is not valid.")
	e.read.ListErr = &projections.QueryError{Param: "sort", Message: "Supplied sort key 'bogus' is not valid."}
	e.do(http.MethodGet, "/v2/lbaas/loadbalancers?sort=bogus", "").expectFault(400, "Supplied sort key 'bogus' is not valid.")
	e.read.ListErr = fmt.Errorf("list: %w", context.DeadlineExceeded)
	e.do(http.MethodGet, "/v2/lbaas/loadbalancers", "").expectStatus(500)
}

func TestStatusAndStats(t *testing.T) {
	e := newEnv(t)
	e.activeGraph()
	st := e.do(http.MethodGet, "/v2/lbaas/loadbalancers/"+lbID+"/status", "").expectStatus(200).obj("statuses")
	lb := st["loadbalancer"].(map[string]any)
	if lb["id"] != lbID || len(lb["listeners"].([]any)) != 1 {
		t.Errorf("status %v", st)
	}
	e.do(http.MethodGet, "/v2/lbaas/loadbalancers/"+lbID+"/statuses", "").expectStatus(200)
	stats := e.do(http.MethodGet, "/v2/lbaas/loadbalancers/"+lbID+"/stats", "").expectStatus(200).obj("stats")
	if stats["bytes_in"] != float64(10) || stats["total_connections"] != float64(2) || len(stats) != 5 {
		t.Errorf("stats %v", stats)
	}
	ls := e.do(http.MethodGet, "/v2/lbaas/listeners/"+listID+"/stats", "").expectStatus(200).obj("stats")
	if ls["bytes_out"] != float64(7) {
		t.Errorf("listener stats %v", ls)
	}
	e.do(http.MethodGet, "/v2/lbaas/loadbalancers/"+unknownID+"/status", "").expectFault(404, "Load Balancer "+unknownID+" not found.")
	e.do(http.MethodGet, "/v2/lbaas/listeners/"+unknownID+"/stats", "").expectFault(404, "Listener "+unknownID+" not found.")
	e.do(http.MethodGet, "/v2/lbaas/loadbalancers/"+lbID+"/stats?x=1", "").expectFault(400, `Unknown argument: "x"`)
}
