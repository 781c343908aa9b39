package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/listeners"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/loadbalancers"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/monitors"
	"github.com/gophercloud/gophercloud/v2/openstack/loadbalancer/v2/pools"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// Projects are free strings in noauth; every caller is admin (Octavia's
// Context sets is_admin when auth_strategy is noauth), so a second project
// sees and may change the first one's objects.
const (
	projectA = "e2e-project-a"
	projectB = "e2e-project-b"
)

var (
	timestampRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$`) // Octavia: seconds, no zone
	requestIDRE = regexp.MustCompile(`^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// wantFields checks that obj has each key with the value (compared as JSON).
func wantFields(t *testing.T, what string, obj map[string]any, want map[string]any) {
	t.Helper()
	for k, w := range want {
		var norm any
		if err := json.Unmarshal([]byte(mustJSON(t, w)), &norm); err != nil {
			t.Fatalf("normalize %v: %v", w, err)
		}
		got, ok := obj[k]
		if !ok {
			t.Errorf("%s: no key %q in %s", what, k, mustJSON(t, obj))
			continue
		}
		if !reflect.DeepEqual(got, norm) {
			t.Errorf("%s: %s = %s, want %s", what, k, mustJSON(t, got), mustJSON(t, norm))
		}
	}
}

// wantKeys checks the exact key set of obj.
func wantKeys(t *testing.T, what string, obj map[string]any, keys ...string) {
	t.Helper()
	var got []string
	for k := range obj {
		got = append(got, k)
	}
	sort.Strings(got)
	sort.Strings(keys)
	if !slices.Equal(got, keys) {
		t.Errorf("%s: keys %v, want %v", what, got, keys)
	}
}

// wantIDRefs checks a list of {"id": ...} references.
func wantIDRefs(t *testing.T, what string, v any, want ...string) {
	t.Helper()
	list, _ := v.([]any)
	var got []string
	for _, e := range list {
		m, _ := e.(map[string]any)
		s, _ := m["id"].(string)
		got = append(got, s)
	}
	sort.Strings(got)
	want = slices.Clone(want)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: ids %v, want %v", what, got, want)
	}
}

// wantFault checks Octavia's validation error body and that faultstring
// contains every one of parts.
func wantFault(t *testing.T, what string, r response, status int, parts ...string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: want HTTP %d, got %s", what, status, r)
		return
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Errorf("%s: error body is not JSON: %s", what, r)
		return
	}
	wantKeys(t, what+" error body", m, "faultcode", "faultstring", "debuginfo")
	if m["faultcode"] != "Client" || m["debuginfo"] != nil {
		t.Errorf("%s: want faultcode Client and debuginfo null: %s", what, r)
	}
	fs, _ := m["faultstring"].(string)
	if fs == "" {
		t.Errorf("%s: empty faultstring: %s", what, r)
	}
	for _, p := range parts {
		if !strings.Contains(fs, p) {
			t.Errorf("%s: faultstring %q does not contain %q", what, fs, p)
		}
	}
}

func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestLifecycle builds a full graph with gophercloud, waiting for ACTIVE after
// each step, and checks every write is visible at once to a second client.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{})
	ctx := context.Background()
	gc := newGopherClient(t, srv.URL, projectA)
	other := newRawClient(srv.URL, projectB) // read-your-writes from another client (and /v2 instead of /v2.0)

	// Load balancer.
	lb, err := loadbalancers.Create(ctx, gc, loadbalancers.CreateOpts{
		Name: "web", Description: "e2e", VipSubnetID: defaultSubnet, Tags: []string{"e2e"},
	}).Extract()
	noErr(t, "create lb", err)
	if lb.ProvisioningStatus != "PENDING_CREATE" || lb.OperatingStatus != "OFFLINE" {
		t.Errorf("create lb: statuses %s/%s, want PENDING_CREATE/OFFLINE", lb.ProvisioningStatus, lb.OperatingStatus)
	}
	if !lb.UpdatedAt.IsZero() {
		t.Errorf("create lb: updated_at %v, want null before any update", lb.UpdatedAt)
	}
	if lb.ProjectID != projectA || lb.Provider != "amphora" || lb.VipSubnetID != defaultSubnet {
		t.Errorf("create lb: project %q provider %q subnet %q", lb.ProjectID, lb.Provider, lb.VipSubnetID)
	}
	lbPath := "/v2/lbaas/loadbalancers/" + lb.ID
	r := other.get(t, lbPath)
	mustStatus(t, "GET lb right after create", r, http.StatusOK)
	wantFields(t, "lb right after create", objectAt(t, r, "loadbalancer"), map[string]any{"id": lb.ID, "name": "web"})
	if !requestIDRE.MatchString(r.Header.Get("X-Openstack-Request-Id")) {
		t.Errorf("x-openstack-request-id %q, want req-<uuid>", r.Header.Get("X-Openstack-Request-Id"))
	}

	lbObj := waitActive(t, other, lb.ID)
	wantFields(t, "active lb", lbObj, map[string]any{
		"operating_status": "OFFLINE", "project_id": projectA, "tenant_id": projectA,
		"vip_subnet_id": defaultSubnet, "vip_network_id": defaultNetwork, "admin_state_up": true,
		"description": "e2e", "tags": []string{"e2e"}, "listeners": []any{}, "pools": []any{},
		"provider": "amphora", "flavor_id": nil, "availability_zone": nil,
	})
	wantKeys(t, "lb", lbObj, "id", "name", "description", "provisioning_status", "operating_status",
		"admin_state_up", "project_id", "tenant_id", "created_at", "updated_at", "vip_address", "vip_port_id",
		"vip_subnet_id", "vip_network_id", "additional_vips", "listeners", "pools", "provider", "flavor_id",
		"vip_qos_policy_id", "tags", "availability_zone")
	vip, err := netip.ParseAddr(fmt.Sprint(lbObj["vip_address"]))
	if err != nil || !netip.MustParsePrefix(vipCIDR).Contains(vip) {
		t.Errorf("vip_address %v is not in %s", lbObj["vip_address"], vipCIDR)
	}
	if s, _ := lbObj["vip_port_id"].(string); s == "" {
		t.Errorf("vip_port_id %v, want a port id", lbObj["vip_port_id"])
	}
	for _, k := range []string{"created_at", "updated_at"} {
		// updated_at too: activation is a row update (oslo.db's onupdate).
		if s, _ := lbObj[k].(string); !timestampRE.MatchString(s) {
			t.Errorf("%s %v, want YYYY-MM-DDTHH:MM:SS", k, lbObj[k])
		}
	}
	listed := listAt(t, other.get(t, "/v2/lbaas/loadbalancers?id="+lb.ID), "loadbalancers")
	if len(listed) != 1 || !reflect.DeepEqual(listed[0], lbObj) {
		t.Errorf("list item differs from GET:\nlist %s\nget  %s", mustJSON(t, listed), mustJSON(t, lbObj))
	}

	// Listener.
	ln, err := listeners.Create(ctx, gc, listeners.CreateOpts{
		LoadbalancerID: lb.ID, Protocol: listeners.ProtocolHTTP, ProtocolPort: 80, Name: "http",
	}).Extract()
	noErr(t, "create listener", err)
	if ln.ProvisioningStatus != "PENDING_CREATE" {
		t.Errorf("create listener: %s, want PENDING_CREATE", ln.ProvisioningStatus)
	}
	lnPath := "/v2/lbaas/listeners/" + ln.ID
	mustStatus(t, "GET listener right after create", other.get(t, lnPath), http.StatusOK)
	wantIDRefs(t, "lb listeners right after listener create", objectAt(t, other.get(t, lbPath), "loadbalancer")["listeners"], ln.ID)
	waitActive(t, other, lb.ID)
	lnObj := objectAt(t, other.get(t, lnPath), "listener")
	wantFields(t, "listener", lnObj, map[string]any{
		"provisioning_status": "ACTIVE", "operating_status": "OFFLINE", "protocol": "HTTP", "protocol_port": 80,
		"connection_limit": -1, "timeout_client_data": 50000, "timeout_member_connect": 5000,
		"timeout_member_data": 50000, "timeout_tcp_inspect": 0, "default_pool_id": nil,
		"project_id": projectA, "loadbalancers": []map[string]string{{"id": lb.ID}},
	})

	// Pool, the listener's default pool.
	pool, err := pools.Create(ctx, gc, pools.CreateOpts{
		ListenerID: ln.ID, LBMethod: pools.LBMethodRoundRobin, Protocol: pools.ProtocolHTTP, Name: "pool",
	}).Extract()
	noErr(t, "create pool", err)
	poolPath := "/v2/lbaas/pools/" + pool.ID
	mustStatus(t, "GET pool right after create", other.get(t, poolPath), http.StatusOK)
	waitActive(t, other, lb.ID)
	wantFields(t, "listener after pool", objectAt(t, other.get(t, lnPath), "listener"), map[string]any{"default_pool_id": pool.ID})
	wantFields(t, "pool", objectAt(t, other.get(t, poolPath), "pool"), map[string]any{
		"provisioning_status": "ACTIVE", "operating_status": "OFFLINE", "lb_algorithm": "ROUND_ROBIN",
		"protocol": "HTTP", "session_persistence": nil, "healthmonitor_id": nil, "members": []any{},
		"loadbalancers": []map[string]string{{"id": lb.ID}}, "listeners": []map[string]string{{"id": ln.ID}},
	})

	// Three members, each waited for.
	var memberIDs []string
	for i := 1; i <= 3; i++ {
		m, err := pools.CreateMember(ctx, gc, pool.ID, pools.CreateMemberOpts{
			Address: fmt.Sprintf("127.0.0.%d", 10+i), ProtocolPort: 8080, Name: fmt.Sprintf("m%d", i),
		}).Extract()
		noErr(t, "create member", err)
		if m.ProvisioningStatus != "PENDING_CREATE" || m.OperatingStatus != "NO_MONITOR" {
			t.Errorf("create member: %s/%s, want PENDING_CREATE/NO_MONITOR", m.ProvisioningStatus, m.OperatingStatus)
		}
		mustStatus(t, "GET member right after create", other.get(t, poolPath+"/members/"+m.ID), http.StatusOK)
		waitActive(t, other, lb.ID)
		memberIDs = append(memberIDs, m.ID)
	}
	mObj := objectAt(t, other.get(t, poolPath+"/members/"+memberIDs[0]), "member")
	wantFields(t, "member", mObj, map[string]any{
		"provisioning_status": "ACTIVE", "operating_status": "NO_MONITOR", "address": "127.0.0.11",
		"protocol_port": 8080, "weight": 1, "backup": false, "monitor_address": nil, "monitor_port": nil,
		"admin_state_up": true, "project_id": projectA,
	})
	wantIDRefs(t, "pool members", objectAt(t, other.get(t, poolPath), "pool")["members"], memberIDs...)

	// Health monitor.
	hm, err := monitors.Create(ctx, gc, monitors.CreateOpts{
		PoolID: pool.ID, Type: monitors.TypeHTTP, Delay: 5, Timeout: 3, MaxRetries: 3, Name: "hm",
	}).Extract()
	noErr(t, "create monitor", err)
	hmPath := "/v2/lbaas/healthmonitors/" + hm.ID
	mustStatus(t, "GET monitor right after create", other.get(t, hmPath), http.StatusOK)
	waitActive(t, other, lb.ID)
	wantFields(t, "monitor", objectAt(t, other.get(t, hmPath), "healthmonitor"), map[string]any{
		"provisioning_status": "ACTIVE", "operating_status": "ONLINE", "type": "HTTP", "delay": 5, "timeout": 3,
		"max_retries": 3, "max_retries_down": 3, "http_method": "GET", "url_path": "/", "expected_codes": "200",
		"pools": []map[string]string{{"id": pool.ID}},
	})
	wantFields(t, "pool with monitor", objectAt(t, other.get(t, poolPath), "pool"), map[string]any{"healthmonitor_id": hm.ID})

	// Updates: each answers 200 in PENDING_UPDATE, is visible at once, settles.
	updates := []struct {
		name  string
		path  string
		root  string
		do    func() (string, error) // returns the provisioning status of the PUT response
		field string
		want  any
	}{
		{"lb", lbPath, "loadbalancer", func() (string, error) {
			name, desc := "web2", "changed"
			o, err := loadbalancers.Update(ctx, gc, lb.ID, loadbalancers.UpdateOpts{Name: &name, Description: &desc}).Extract()
			if err != nil {
				return "", err
			}
			return o.ProvisioningStatus, nil
		}, "name", "web2"},
		{"listener", lnPath, "listener", func() (string, error) {
			limit := 100
			o, err := listeners.Update(ctx, gc, ln.ID, listeners.UpdateOpts{ConnLimit: &limit}).Extract()
			if err != nil {
				return "", err
			}
			return o.ProvisioningStatus, nil
		}, "connection_limit", 100},
		{"pool", poolPath, "pool", func() (string, error) {
			o, err := pools.Update(ctx, gc, pool.ID, pools.UpdateOpts{LBMethod: pools.LBMethodLeastConnections}).Extract()
			if err != nil {
				return "", err
			}
			return o.ProvisioningStatus, nil
		}, "lb_algorithm", "LEAST_CONNECTIONS"},
		{"member", poolPath + "/members/" + memberIDs[1], "member", func() (string, error) {
			w := 5
			o, err := pools.UpdateMember(ctx, gc, pool.ID, memberIDs[1], pools.UpdateMemberOpts{Weight: &w}).Extract()
			if err != nil {
				return "", err
			}
			return o.ProvisioningStatus, nil
		}, "weight", 5},
		{"monitor", hmPath, "healthmonitor", func() (string, error) {
			o, err := monitors.Update(ctx, gc, hm.ID, monitors.UpdateOpts{Delay: 10}).Extract()
			if err != nil {
				return "", err
			}
			return o.ProvisioningStatus, nil
		}, "delay", 10},
	}
	for _, u := range updates {
		status, err := u.do()
		if err != nil {
			t.Fatalf("update %s: %v", u.name, err)
		}
		if status != "PENDING_UPDATE" {
			t.Errorf("update %s: response in %s, want PENDING_UPDATE", u.name, status)
		}
		wantFields(t, u.name+" right after update", objectAt(t, other.get(t, u.path), u.root), map[string]any{u.field: u.want})
		waitActive(t, other, lb.ID)
		obj := objectAt(t, other.get(t, u.path), u.root)
		wantFields(t, u.name+" after update", obj, map[string]any{"provisioning_status": "ACTIVE", u.field: u.want})
		if s, _ := obj["updated_at"].(string); !timestampRE.MatchString(s) {
			t.Errorf("%s updated_at %v after an update, want a timestamp", u.name, obj["updated_at"])
		}
	}

	// Lists through gophercloud.
	lbs, err := listAll(t, loadbalancers.List(gc, loadbalancers.ListOpts{Name: "web2"}), loadbalancers.ExtractLoadBalancers)
	noErr(t, "list lbs", err)
	if len(lbs) != 1 || lbs[0].ID != lb.ID {
		t.Errorf("list lbs name=web2: %d results", len(lbs))
	}
	lns, err := listAll(t, listeners.List(gc, listeners.ListOpts{LoadbalancerID: lb.ID}), listeners.ExtractListeners)
	noErr(t, "list listeners", err)
	if len(lns) != 1 || lns[0].ID != ln.ID {
		t.Errorf("list listeners of lb: %+v", lns)
	}
	pls, err := listAll(t, pools.List(gc, pools.ListOpts{LoadbalancerID: lb.ID}), pools.ExtractPools)
	noErr(t, "list pools", err)
	if len(pls) != 1 || pls[0].ID != pool.ID {
		t.Errorf("list pools of lb: %+v", pls)
	}
	mbs, err := listAll(t, pools.ListMembers(gc, pool.ID, pools.ListMembersOpts{}), pools.ExtractMembers)
	noErr(t, "list members", err)
	if len(mbs) != 3 {
		t.Errorf("list members: %d, want 3", len(mbs))
	}
	hms, err := listAll(t, monitors.List(gc, monitors.ListOpts{PoolID: pool.ID}), monitors.ExtractMonitors)
	noErr(t, "list monitors", err)
	if len(hms) != 1 || hms[0].ID != hm.ID {
		t.Errorf("list monitors of pool: %+v", hms)
	}

	checkStatusTree(t, other, lb.ID, ln.ID, pool.ID, hm.ID, memberIDs)
	tree, err := loadbalancers.GetStatuses(ctx, gc, lb.ID).Extract()
	noErr(t, "gophercloud status tree", err)
	if tree.Loadbalancer == nil || len(tree.Loadbalancer.Listeners) != 1 || len(tree.Loadbalancer.Listeners[0].Pools) != 1 ||
		len(tree.Loadbalancer.Listeners[0].Pools[0].Members) != 3 {
		t.Errorf("gophercloud status tree: %+v", tree.Loadbalancer)
	}
	for _, path := range []string{lbPath + "/stats", lnPath + "/stats"} {
		r := other.get(t, path)
		mustStatus(t, "GET "+path, r, http.StatusOK)
		stats := objectAt(t, r, "stats")
		wantKeys(t, path, stats, "bytes_in", "bytes_out", "active_connections", "total_connections", "request_errors")
		wantFields(t, path, stats, map[string]any{"bytes_in": 0, "bytes_out": 0, "active_connections": 0, "total_connections": 0, "request_errors": 0})
	}
	st, err := loadbalancers.GetStats(ctx, gc, lb.ID).Extract()
	noErr(t, "gophercloud stats", err)
	if *st != (loadbalancers.Stats{}) {
		t.Errorf("gophercloud stats: %+v, want zeros", *st)
	}

	// Failover: 202, then ACTIVE again with the graph intact.
	if err := loadbalancers.Failover(ctx, gc, lb.ID).ExtractErr(); err != nil {
		t.Fatalf("failover: %v", err)
	}
	if s := objectAt(t, other.get(t, lbPath), "loadbalancer")["provisioning_status"]; s != "PENDING_UPDATE" && s != "ACTIVE" {
		t.Errorf("lb right after failover: %v, want PENDING_UPDATE (or already ACTIVE)", s)
	}
	lbObj = waitActive(t, other, lb.ID)
	wantIDRefs(t, "lb listeners after failover", lbObj["listeners"], ln.ID)
	if lbObj["vip_address"] != vip.String() {
		t.Errorf("vip_address changed by failover: %v -> %v", vip, lbObj["vip_address"])
	}

	// Member batch update: keep .12 (new weight), drop .11 and .13, add .21 and .22.
	weight := 7
	batch := []pools.BatchUpdateMemberOpts{
		{Address: "127.0.0.12", ProtocolPort: 8080, Weight: &weight},
		{Address: "127.0.0.21", ProtocolPort: 8080},
		{Address: "127.0.0.22", ProtocolPort: 8080},
	}
	if err := pools.BatchUpdateMembers(ctx, gc, pool.ID, batch).ExtractErr(); err != nil {
		t.Fatalf("batch update members: %v", err)
	}
	seen := map[string]bool{}
	for _, m := range listAt(t, other.get(t, poolPath+"/members"), "members") {
		seen[fmt.Sprint(m["address"])] = true
	}
	if !seen["127.0.0.21"] || !seen["127.0.0.22"] {
		t.Errorf("members right after the batch lack the new ones: %v", seen)
	}
	waitActive(t, other, lb.ID)
	members := listAt(t, other.get(t, poolPath+"/members"), "members")
	got := map[string]map[string]any{}
	for _, m := range members {
		got[fmt.Sprintf("%v:%v", m["address"], m["protocol_port"])] = m
	}
	wantSet := []string{"127.0.0.12:8080", "127.0.0.21:8080", "127.0.0.22:8080"}
	if len(members) != 3 || got[wantSet[0]] == nil || got[wantSet[1]] == nil || got[wantSet[2]] == nil {
		t.Fatalf("members after batch: %s, want exactly %v", mustJSON(t, members), wantSet)
	}
	wantFields(t, "kept member", got[wantSet[0]], map[string]any{"id": memberIDs[1], "weight": 7, "provisioning_status": "ACTIVE"})
	for _, k := range wantSet[1:] {
		// Created in a pool with a monitor: OFFLINE until a heartbeat says otherwise.
		wantFields(t, "new member "+k, got[k], map[string]any{"provisioning_status": "ACTIVE", "operating_status": "OFFLINE", "weight": 1})
	}
	for _, gone := range []string{memberIDs[0], memberIDs[2]} {
		mustStatus(t, "GET dropped member", other.get(t, poolPath+"/members/"+gone), http.StatusNotFound)
	}

	// Delete with children: 400 without cascade, then cascade removes everything.
	r = other.do(t, request{Method: http.MethodDelete, Path: lbPath})
	wantFault(t, "delete lb with children", r, http.StatusBadRequest,
		fmt.Sprintf("Validation failure: Cannot delete Load Balancer %s - it has children", lb.ID))
	if err := loadbalancers.Delete(ctx, gc, lb.ID, loadbalancers.DeleteOpts{Cascade: true}).ExtractErr(); err != nil {
		t.Fatalf("cascade delete: %v", err)
	}
	r = other.get(t, lbPath)
	if r.Status == http.StatusOK {
		wantFields(t, "lb right after delete", objectAt(t, r, "loadbalancer"), map[string]any{"provisioning_status": "PENDING_DELETE"})
	} else if r.Status != http.StatusNotFound {
		t.Errorf("GET lb right after delete: %s", r)
	}
	waitGone(t, other, lbPath)
	children := []string{lnPath, poolPath, hmPath}
	for _, m := range members {
		children = append(children, poolPath+"/members/"+m["id"].(string))
	}
	for _, path := range children {
		mustStatus(t, "GET "+path+" after cascade delete", other.get(t, path), http.StatusNotFound)
	}
	for _, path := range []string{"/v2/lbaas/listeners?loadbalancer_id=" + lb.ID, "/v2/lbaas/pools?loadbalancer_id=" + lb.ID} {
		root := strings.TrimPrefix(strings.SplitN(path, "?", 2)[0], "/v2/lbaas/")
		if l := listAt(t, other.get(t, path), root); len(l) != 0 {
			t.Errorf("%s after cascade delete: %d objects", path, len(l))
		}
	}
}

// listAll collects every page of a gophercloud pager.
func listAll[T any](t *testing.T, p pagination.Pager, extract func(pagination.Page) ([]T, error)) ([]T, error) {
	t.Helper()
	page, err := p.AllPages(context.Background())
	if err != nil {
		return nil, err
	}
	return extract(page)
}

func checkStatusTree(t *testing.T, c *rawClient, lbID, lnID, poolID, hmID string, memberIDs []string) {
	t.Helper()
	r := c.get(t, "/v2/lbaas/loadbalancers/"+lbID+"/status")
	mustStatus(t, "GET status", r, http.StatusOK)
	root := r.object(t)
	wantKeys(t, "status body", root, "statuses")
	statuses, _ := root["statuses"].(map[string]any)
	lb, _ := statuses["loadbalancer"].(map[string]any)
	wantKeys(t, "status lb", lb, "id", "name", "operating_status", "provisioning_status", "listeners")
	wantFields(t, "status lb", lb, map[string]any{"id": lbID, "name": "web2", "provisioning_status": "ACTIVE", "operating_status": "OFFLINE"})
	lns, _ := lb["listeners"].([]any)
	if len(lns) != 1 {
		t.Fatalf("status tree listeners: %s", r)
	}
	ln := lns[0].(map[string]any)
	wantKeys(t, "status listener", ln, "id", "name", "operating_status", "provisioning_status", "pools")
	wantFields(t, "status listener", ln, map[string]any{"id": lnID, "name": "http", "provisioning_status": "ACTIVE", "operating_status": "OFFLINE"})
	pls, _ := ln["pools"].([]any)
	if len(pls) != 1 {
		t.Fatalf("status tree pools: %s", r)
	}
	pool := pls[0].(map[string]any)
	wantKeys(t, "status pool", pool, "id", "name", "provisioning_status", "operating_status", "health_monitor", "members")
	wantFields(t, "status pool", pool, map[string]any{"id": poolID, "name": "pool", "provisioning_status": "ACTIVE", "operating_status": "OFFLINE"})
	hm, _ := pool["health_monitor"].(map[string]any)
	wantKeys(t, "status monitor", hm, "id", "name", "type", "provisioning_status", "operating_status")
	wantFields(t, "status monitor", hm, map[string]any{"id": hmID, "name": "hm", "type": "HTTP", "provisioning_status": "ACTIVE", "operating_status": "ONLINE"})
	var got []string
	mbs, _ := pool["members"].([]any)
	for _, e := range mbs {
		m := e.(map[string]any)
		wantKeys(t, "status member", m, "id", "name", "operating_status", "provisioning_status", "address", "protocol_port")
		wantFields(t, "status member", m, map[string]any{"provisioning_status": "ACTIVE", "operating_status": "NO_MONITOR", "protocol_port": 8080})
		got = append(got, fmt.Sprint(m["id"]))
	}
	sort.Strings(got)
	want := slices.Clone(memberIDs)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("status tree members %v, want %v", got, want)
	}
}

// TestPendingConflicts: with slow drivers the load balancer stays PENDING_*
// long enough for a second change to hit Octavia's 409s.
func TestPendingConflicts(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{NoopDelay: 600 * time.Millisecond})
	c := newRawClient(srv.URL, projectA)

	r := c.do(t, request{Method: http.MethodPost, Path: "/v2.0/lbaas/loadbalancers",
		Body: `{"loadbalancer": {"name": "slow", "vip_subnet_id": "` + defaultSubnet + `"}}`})
	mustStatus(t, "create lb", r, http.StatusCreated)
	lbID := objectAt(t, r, "loadbalancer")["id"].(string)
	lbPath := "/v2.0/lbaas/loadbalancers/" + lbID
	listener := func(port int) request {
		return request{Method: http.MethodPost, Path: "/v2.0/lbaas/listeners",
			Body: fmt.Sprintf(`{"listener": {"loadbalancer_id": %q, "protocol": "HTTP", "protocol_port": %d}}`, lbID, port)}
	}
	stillPending := func(want string) {
		t.Helper()
		if s := objectAt(t, c.get(t, lbPath), "loadbalancer")["provisioning_status"]; s != want {
			t.Fatalf("lb is %v, not %s: the delay is too short for this test", s, want)
		}
	}

	wantFault(t, "PUT lb while PENDING_CREATE", c.do(t, request{Method: http.MethodPut, Path: lbPath, Body: `{"loadbalancer": {"name": "x"}}`}),
		http.StatusConflict, fmt.Sprintf("Invalid state PENDING_CREATE of loadbalancer resource %s", lbID))
	wantFault(t, "listener on a PENDING_CREATE lb", c.do(t, listener(80)),
		http.StatusConflict, fmt.Sprintf("Load Balancer %s is immutable and cannot be updated.", lbID))
	wantFault(t, "DELETE lb while PENDING_CREATE", c.do(t, request{Method: http.MethodDelete, Path: lbPath}),
		http.StatusConflict, fmt.Sprintf("Invalid state PENDING_CREATE of loadbalancer resource %s", lbID))
	stillPending("PENDING_CREATE")
	waitActive(t, c, lbID)

	mustStatus(t, "create listener", c.do(t, listener(80)), http.StatusCreated)
	wantFault(t, "PUT lb while PENDING_UPDATE", c.do(t, request{Method: http.MethodPut, Path: lbPath, Body: `{"loadbalancer": {"name": "x"}}`}),
		http.StatusConflict, fmt.Sprintf("Invalid state PENDING_UPDATE of loadbalancer resource %s", lbID))
	wantFault(t, "second listener while PENDING_UPDATE", c.do(t, listener(81)),
		http.StatusConflict, fmt.Sprintf("Load Balancer %s is immutable and cannot be updated.", lbID))
	stillPending("PENDING_UPDATE")
	waitActive(t, c, lbID)

	// Duplicate protocol+port is a 409 of its own, once the LB is mutable.
	wantFault(t, "duplicate listener port", c.do(t, listener(80)), http.StatusConflict, "protocol_port 80")
	if s := objectAt(t, c.get(t, lbPath), "loadbalancer")["name"]; s != "slow" {
		t.Errorf("a refused PUT changed the name to %v", s)
	}

	// Concurrent updates of an ACTIVE load balancer: exactly one wins, the
	// others see it PENDING_UPDATE (409); none is lost or applied twice.
	const racers = 8
	results := make(chan response, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := c.try(request{Method: http.MethodPut, Path: lbPath, Body: fmt.Sprintf(`{"loadbalancer": {"name": "racer-%d"}}`, i)})
			if err != nil {
				r = response{Body: []byte(err.Error())}
			}
			results <- r
		}()
	}
	wg.Wait()
	close(results)
	var winners []string
	for r := range results {
		switch r.Status {
		case http.StatusOK:
			winners = append(winners, fmt.Sprint(objectAt(t, r, "loadbalancer")["name"]))
		case http.StatusConflict:
			wantFault(t, "losing PUT", r, http.StatusConflict, "Invalid state PENDING_UPDATE of loadbalancer resource "+lbID)
		default:
			t.Errorf("concurrent PUT: %s", r)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d concurrent PUTs succeeded (%v), want exactly 1", len(winners), winners)
	}
	wantFields(t, "lb after the race", waitActive(t, c, lbID), map[string]any{"name": winners[0]})
}

// TestSagaFailure: a driver step that always fails ends in ERROR (never
// stuck in PENDING_*), and an ERROR load balancer can be deleted.
func TestSagaFailure(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{NoopFail: []string{"compute.create_amphora"}})
	c := newRawClient(srv.URL, projectA)
	r := c.do(t, request{Method: http.MethodPost, Path: "/v2/lbaas/loadbalancers",
		Body: `{"loadbalancer": {"name": "doomed", "vip_subnet_id": "` + defaultSubnet + `"}}`})
	mustStatus(t, "create lb", r, http.StatusCreated)
	lbID := objectAt(t, r, "loadbalancer")["id"].(string)
	lbPath := "/v2/lbaas/loadbalancers/" + lbID

	var final map[string]any
	poll(t, "lb leaves PENDING_CREATE", func() (bool, string) {
		r := c.get(t, lbPath)
		if r.Status != http.StatusOK {
			return false, r.String()
		}
		final = objectAt(t, r, "loadbalancer")
		return settled(final["provisioning_status"]), r.String()
	})
	if final["provisioning_status"] != "ERROR" {
		t.Fatalf("lb with a failing compute driver ended in %v, want ERROR", final["provisioning_status"])
	}
	// It stays there: no retry loop flips it back to PENDING_*.
	time.Sleep(200 * time.Millisecond)
	wantFields(t, "lb after failure", objectAt(t, c.get(t, lbPath), "loadbalancer"), map[string]any{"provisioning_status": "ERROR"})

	mustStatus(t, "delete ERROR lb", c.do(t, request{Method: http.MethodDelete, Path: lbPath}), http.StatusNoContent)
	waitGone(t, c, lbPath)
}

// TestValidationErrors checks 400s (Octavia's faultstring names the field)
// and 404s on unknown ids.
func TestValidationErrors(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{})
	c := newRawClient(srv.URL, projectA)
	ctx := context.Background()
	gc := newGopherClient(t, srv.URL, projectA)

	lb, err := loadbalancers.Create(ctx, gc, loadbalancers.CreateOpts{Name: "v", VipSubnetID: defaultSubnet}).Extract()
	noErr(t, "create lb", err)
	waitActive(t, c, lb.ID)
	ln, err := listeners.Create(ctx, gc, listeners.CreateOpts{LoadbalancerID: lb.ID, Protocol: listeners.ProtocolHTTP, ProtocolPort: 80}).Extract()
	noErr(t, "create listener", err)
	waitActive(t, c, lb.ID)
	pool, err := pools.Create(ctx, gc, pools.CreateOpts{ListenerID: ln.ID, Protocol: pools.ProtocolHTTP, LBMethod: pools.LBMethodRoundRobin}).Extract()
	noErr(t, "create pool", err)
	waitActive(t, c, lb.ID)

	lbBody := func(fields string) string {
		return `{"loadbalancer": {"vip_subnet_id": "` + defaultSubnet + `"` + fields + `}}`
	}
	lnBody := func(fields string) string {
		return `{"listener": {"loadbalancer_id": "` + lb.ID + `"` + fields + `}}`
	}
	const (
		lbs  = "/v2/lbaas/loadbalancers"
		lns  = "/v2/lbaas/listeners"
		hms  = "/v2/lbaas/healthmonitors"
		pls  = "/v2/lbaas/pools"
		none = "00000000-0000-4000-8000-000000000000" // a UUID nothing has
	)
	members := pls + "/" + pool.ID + "/members"
	bad := []struct {
		name          string
		path, body    string
		noContentType bool
		want          []string // parts of the faultstring
	}{
		{"malformed JSON", lbs, `{"loadbalancer": {`, false, nil},
		{"no Content-Type", lbs, lbBody(""), true, []string{"Unknown argument"}},
		{"bool as a word", lbs, lbBody(`, "admin_state_up": "maybe"`), false, []string{"admin_state_up"}},
		{"tags not a list", lbs, lbBody(`, "tags": "e2e"`), false, []string{"tags"}},
		{"name not a string", lbs, lbBody(`, "name": {"a": 1}`), false, []string{"name"}},
		{"subnet not a UUID", lbs, `{"loadbalancer": {"vip_subnet_id": "nope"}}`, false, []string{"vip_subnet_id"}},
		{"no VIP at all", lbs, `{"loadbalancer": {"name": "novip"}}`, false, []string{"Validation failure: VIP must contain one of:", "vip_subnet_id"}},
		{"unknown protocol", lns, lnBody(`, "protocol": "FOO", "protocol_port": 80`), false, []string{"protocol", "FOO"}},
		{"loadbalancer_id not a UUID", lns, `{"listener": {"loadbalancer_id": "nope", "protocol": "HTTP", "protocol_port": 80}}`, false, []string{"loadbalancer_id"}},
		{"protocol missing", lns, lnBody(`, "protocol_port": 80`), false, []string{"protocol"}},
		{"port a word", lns, lnBody(`, "protocol": "HTTP", "protocol_port": "eighty"`), false, []string{"protocol_port"}},
		{"port out of range", lns, lnBody(`, "protocol": "HTTP", "protocol_port": 70000`), false, []string{"protocol_port"}},
		{"unknown algorithm", pls, `{"pool": {"listener_id": "` + ln.ID + `", "protocol": "HTTP", "lb_algorithm": "RANDOM"}}`, false, []string{"lb_algorithm"}},
		{"member address not an IP", members, `{"member": {"address": "not-an-ip", "protocol_port": 80}}`, false, []string{"address"}},
		{"member port missing", members, `{"member": {"address": "127.0.0.5"}}`, false, []string{"protocol_port"}},
		{"unknown monitor type", hms, `{"healthmonitor": {"pool_id": "` + pool.ID + `", "type": "FOO", "delay": 5, "timeout": 3, "max_retries": 3}}`, false, []string{"type"}},
		{"monitor delay missing", hms, `{"healthmonitor": {"pool_id": "` + pool.ID + `", "type": "HTTP", "timeout": 3, "max_retries": 3}}`, false, []string{"delay"}},
	}
	for _, tc := range bad {
		t.Run("400/"+tc.name, func(t *testing.T) {
			r := c.do(t, request{Method: http.MethodPost, Path: tc.path, Body: tc.body, NoContentType: tc.noContentType})
			wantFault(t, tc.name, r, http.StatusBadRequest, tc.want...)
		})
	}

	notFound := []struct {
		name, method, path, body, want string
	}{
		{"lb", http.MethodGet, lbs + "/" + none, "", "Load Balancer " + none + " not found."},
		{"listener", http.MethodGet, lns + "/" + none, "", "Listener " + none + " not found."},
		{"pool", http.MethodGet, pls + "/" + none, "", "Pool " + none + " not found."},
		{"member", http.MethodGet, members + "/" + none, "", "Member " + none + " not found."},
		{"monitor", http.MethodGet, hms + "/" + none, "", "Health Monitor " + none + " not found."},
		{"lb status", http.MethodGet, lbs + "/" + none + "/status", "", none},
		{"lb stats", http.MethodGet, lbs + "/" + none + "/stats", "", none},
		{"PUT lb", http.MethodPut, lbs + "/" + none, `{"loadbalancer": {"name": "x"}}`, none},
		{"DELETE lb", http.MethodDelete, lbs + "/" + none, "", none},
		{"DELETE listener", http.MethodDelete, lns + "/" + none, "", none},
		{"listener on an unknown lb", http.MethodPost, lns, `{"listener": {"loadbalancer_id": "` + none + `", "protocol": "HTTP", "protocol_port": 80}}`, none},
	}
	for _, tc := range notFound {
		t.Run("404/"+tc.name, func(t *testing.T) {
			r := c.do(t, request{Method: tc.method, Path: tc.path, Body: tc.body})
			wantFault(t, tc.name, r, http.StatusNotFound, tc.want)
		})
	}

	// Errors raised before validation use Pecan's body, not WSME's.
	pecan := []struct {
		name, method, path string
		status             int
		want               string
	}{
		{"bad limit", http.MethodGet, lbs + "?limit=abc", http.StatusBadRequest, "Supplied pagination limit 'abc' is not valid."},
		{"bad sort direction", http.MethodGet, lbs + "?sort=name:sideways", http.StatusBadRequest, "Supplied sort direction 'sideways' is not valid."},
		{"unknown path", http.MethodGet, "/v2/lbaas/nothing", http.StatusNotFound, ""},
		{"method not allowed", http.MethodDelete, lbs, http.StatusMethodNotAllowed, ""},
	}
	for _, tc := range pecan {
		t.Run("pecan/"+tc.name, func(t *testing.T) {
			r := c.do(t, request{Method: tc.method, Path: tc.path})
			mustStatus(t, tc.name, r, tc.status)
			body := r.object(t)
			wantKeys(t, tc.name, body, "code", "title", "description")
			wantFields(t, tc.name, body, map[string]any{"code": tc.status})
			if d, _ := body["description"].(string); !strings.Contains(d, tc.want) {
				t.Errorf("%s: description %q does not contain %q", tc.name, d, tc.want)
			}
		})
	}

	// Nothing above changed the graph.
	lbObj := objectAt(t, c.get(t, lbs+"/"+lb.ID), "loadbalancer")
	wantFields(t, "lb after refused requests", lbObj, map[string]any{"provisioning_status": "ACTIVE", "name": "v"})
	if n := len(listAt(t, c.get(t, lbs), "loadbalancers")); n != 1 {
		t.Errorf("%d load balancers after refused creates, want 1", n)
	}
}

// TestProjects: noauth makes every caller admin, so another project sees and
// lists everything; the body's project_id wins over the header.
func TestProjects(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{})
	a := newRawClient(srv.URL, projectA)
	b := newRawClient(srv.URL, projectB)

	r := a.do(t, request{Method: http.MethodPost, Path: "/v2/lbaas/loadbalancers",
		Body: `{"loadbalancer": {"name": "a", "vip_subnet_id": "` + defaultSubnet + `"}}`})
	mustStatus(t, "create in A", r, http.StatusCreated)
	lbA := objectAt(t, r, "loadbalancer")
	r = a.do(t, request{Method: http.MethodPost, Path: "/v2/lbaas/loadbalancers",
		Body: `{"loadbalancer": {"name": "c", "project_id": "e2e-project-c", "vip_subnet_id": "` + defaultSubnet + `"}}`})
	mustStatus(t, "create with body project", r, http.StatusCreated)
	wantFields(t, "body project wins", objectAt(t, r, "loadbalancer"), map[string]any{"project_id": "e2e-project-c", "tenant_id": "e2e-project-c"})

	r = b.get(t, "/v2/lbaas/loadbalancers/"+lbA["id"].(string))
	mustStatus(t, "B reads A's lb", r, http.StatusOK)
	wantFields(t, "B reads A's lb", objectAt(t, r, "loadbalancer"), map[string]any{"project_id": projectA})
	if n := len(listAt(t, b.get(t, "/v2/lbaas/loadbalancers"), "loadbalancers")); n != 2 {
		t.Errorf("B lists %d load balancers, want 2 (admin sees all)", n)
	}
	only := listAt(t, b.get(t, "/v2/lbaas/loadbalancers?project_id="+projectA), "loadbalancers")
	if len(only) != 1 || only[0]["id"] != lbA["id"] {
		t.Errorf("project_id=%s filter: %s", projectA, mustJSON(t, only))
	}
}

// TestListQueries covers pagination (next and previous links), sorting,
// fields, filters and tag filters over 25 load balancers.
func TestListQueries(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{})
	a := newRawClient(srv.URL, projectA)
	b := newRawClient(srv.URL, projectB)

	const n = 25
	type made struct {
		id, name, project string
		up                bool
		tags              []string
	}
	var all []made
	for i := range n {
		m := made{name: fmt.Sprintf("lb-%02d", i), project: projectA, up: i%5 != 0, tags: []string{"e2e"}}
		if i%2 == 0 {
			m.tags = append(m.tags, "even")
		}
		if i%3 == 0 {
			m.tags = append(m.tags, "three")
		}
		c := a
		if i%4 == 0 {
			c, m.project = b, projectB
		}
		body := map[string]any{"loadbalancer": map[string]any{
			"name": m.name, "vip_subnet_id": defaultSubnet, "admin_state_up": m.up, "tags": m.tags,
		}}
		r := c.do(t, request{Method: http.MethodPost, Path: "/v2/lbaas/loadbalancers", Body: mustJSON(t, body)})
		mustStatus(t, "create "+m.name, r, http.StatusCreated)
		m.id = objectAt(t, r, "loadbalancer")["id"].(string)
		all = append(all, m)
	}
	names := func(objs []map[string]any) []string {
		var out []string
		for _, o := range objs {
			out = append(out, fmt.Sprint(o["name"]))
		}
		return out
	}
	expect := func(keep func(made) bool) []string {
		var out []string
		for _, m := range all {
			if keep(m) {
				out = append(out, m.name)
			}
		}
		sort.Strings(out)
		return out
	}
	sorted := func(s []string) []string { s = slices.Clone(s); sort.Strings(s); return s }

	t.Run("unpaged", func(t *testing.T) {
		r := a.get(t, "/v2/lbaas/loadbalancers")
		got := listAt(t, r, "loadbalancers")
		if !slices.Equal(sorted(names(got)), expect(func(made) bool { return true })) {
			t.Errorf("list: %v", names(got))
		}
		if links, ok := r.object(t)["loadbalancers_links"].([]any); !ok || len(links) != 0 {
			t.Errorf("loadbalancers_links of an unpaged list: %v, want []", r.object(t)["loadbalancers_links"])
		}
	})

	t.Run("gophercloud pages", func(t *testing.T) {
		gc := newGopherClient(t, srv.URL, projectA)
		var sizes []int
		seen := map[string]bool{}
		err := loadbalancers.List(gc, loadbalancers.ListOpts{Limit: 10}).EachPage(context.Background(), func(_ context.Context, p pagination.Page) (bool, error) {
			lbs, err := loadbalancers.ExtractLoadBalancers(p)
			if err != nil {
				return false, err
			}
			sizes = append(sizes, len(lbs))
			for _, lb := range lbs {
				if seen[lb.ID] {
					t.Errorf("duplicate %s across pages", lb.Name)
				}
				seen[lb.ID] = true
			}
			return len(sizes) < 10, nil
		})
		if err != nil {
			t.Fatalf("EachPage: %v", err)
		}
		if !slices.Equal(sizes, []int{10, 10, 5}) || len(seen) != n {
			t.Errorf("pages %v with %d distinct, want [10 10 5] and %d", sizes, len(seen), n)
		}
	})

	t.Run("next then previous links", func(t *testing.T) {
		type page struct {
			ids        []string
			next, prev string
		}
		fetch := func(url string) page {
			t.Helper()
			r := a.get(t, url)
			mustStatus(t, "GET "+url, r, http.StatusOK)
			p := page{ids: ids(listAt(t, r, "loadbalancers"))}
			links, _ := r.object(t)["loadbalancers_links"].([]any)
			for _, l := range links {
				lm, _ := l.(map[string]any)
				href, _ := lm["href"].(string)
				if !strings.HasPrefix(href, srv.URL+"/v2.0/lbaas/loadbalancers?") || !strings.Contains(href, "limit=10") || !strings.Contains(href, "marker=") {
					t.Errorf("link %s: want an absolute %s/v2.0/lbaas/loadbalancers?limit=10&marker=... href", mustJSON(t, lm), srv.URL)
				}
				switch lm["rel"] {
				case "next":
					p.next = href
				case "previous":
					p.prev = href
				default:
					t.Errorf("link rel %v", lm["rel"])
				}
			}
			return p
		}
		var forward []page
		for url := "/v2.0/lbaas/loadbalancers?limit=10"; url != "" && len(forward) < 10; {
			p := fetch(url)
			forward = append(forward, p)
			url = p.next
		}
		if len(forward) != 3 || forward[0].prev != "" {
			t.Fatalf("forward walk: %d pages (want 3), first page previous link %q (want none)", len(forward), forward[0].prev)
		}
		var flat []string
		for _, p := range forward {
			flat = append(flat, p.ids...)
		}
		if len(flat) != n || len(uniq(flat)) != n {
			t.Fatalf("forward walk: %d ids, %d distinct, want %d", len(flat), len(uniq(flat)), n)
		}
		// Back from the last page: each previous link gives the page before.
		// (Octavia 11 itself keeps the sort order and only flips the marker
		// comparison, so its "previous" from page 3 is page 1; octavia-es is
		// asked for the page actually before.)
		var back [][]string
		for url := forward[2].prev; url != "" && len(back) < 10; {
			p := fetch(url)
			if len(p.ids) == 0 {
				break
			}
			back = append(back, p.ids)
			url = p.prev
		}
		if len(back) != 2 || !slices.Equal(back[0], forward[1].ids) || !slices.Equal(back[1], forward[0].ids) {
			t.Errorf("previous walk %v, want pages %v then %v", back, forward[1].ids, forward[0].ids)
		}
	})

	t.Run("sort", func(t *testing.T) {
		want := expect(func(made) bool { return true })
		if got := names(listAt(t, a.get(t, "/v2/lbaas/loadbalancers?sort=name:asc"), "loadbalancers")); !slices.Equal(got, want) {
			t.Errorf("sort=name:asc: %v", got)
		}
		desc := slices.Clone(want)
		slices.Reverse(desc)
		if got := names(listAt(t, a.get(t, "/v2/lbaas/loadbalancers?sort_key=name&sort_dir=desc"), "loadbalancers")); !slices.Equal(got, desc) {
			t.Errorf("sort_key=name&sort_dir=desc: %v", got)
		}
		if got := names(listAt(t, a.get(t, "/v2/lbaas/loadbalancers?sort=name:desc&limit=3"), "loadbalancers")); !slices.Equal(got, desc[:3]) {
			t.Errorf("sort=name:desc&limit=3: %v", got)
		}
	})

	// octavia-es differs on purpose here (docs/api.md): Octavia answers
	// limit=0 with a 500.
	t.Run("limit edge cases", func(t *testing.T) {
		if got := listAt(t, a.get(t, "/v2/lbaas/loadbalancers?limit=0"), "loadbalancers"); len(got) != n {
			t.Errorf("limit=0: %d items, want the default page (%d)", len(got), n)
		}
		mustStatus(t, "limit=-1", a.get(t, "/v2/lbaas/loadbalancers?limit=-1"), http.StatusBadRequest)
		if got := listAt(t, a.get(t, "/v2/lbaas/loadbalancers?limit=5000"), "loadbalancers"); len(got) != n {
			t.Errorf("limit above the maximum: %d items, want %d", len(got), n)
		}
	})

	t.Run("fields", func(t *testing.T) {
		for _, o := range listAt(t, a.get(t, "/v2/lbaas/loadbalancers?fields=id&fields=name"), "loadbalancers") {
			wantKeys(t, "fields=id&fields=name", o, "id", "name")
		}
		one := objectAt(t, a.get(t, "/v2/lbaas/loadbalancers/"+all[3].id+"?fields=name&fields=provisioning_status"), "loadbalancer")
		wantKeys(t, "GET one with fields", one, "name", "provisioning_status")
		wantFields(t, "GET one with fields", one, map[string]any{"name": all[3].name})
	})

	filters := []struct {
		query string
		keep  func(made) bool
	}{
		{"name=lb-07", func(m made) bool { return m.name == "lb-07" }},
		{"admin_state_up=false", func(m made) bool { return !m.up }},
		{"admin_state_up=true", func(m made) bool { return m.up }},
		{"project_id=" + projectB, func(m made) bool { return m.project == projectB }},
		{"name=lb-08&project_id=" + projectB, func(m made) bool { return m.name == "lb-08" }},
		{"tags=e2e", func(made) bool { return true }},
		{"tags=even,three", func(m made) bool { return has(m.tags, "even") && has(m.tags, "three") }},
		{"tags=even&tags=three", func(m made) bool { return has(m.tags, "even") && has(m.tags, "three") }},
		{"tags-any=even,three", func(m made) bool { return has(m.tags, "even") || has(m.tags, "three") }},
		{"not-tags=even,three", func(m made) bool { return !(has(m.tags, "even") && has(m.tags, "three")) }},
		{"not-tags-any=even,three", func(m made) bool { return !has(m.tags, "even") && !has(m.tags, "three") }},
		{"name=nothing", func(made) bool { return false }},
	}
	for _, f := range filters {
		t.Run("filter "+f.query, func(t *testing.T) {
			got := sorted(names(listAt(t, b.get(t, "/v2/lbaas/loadbalancers?"+f.query), "loadbalancers")))
			if want := expect(f.keep); !slices.Equal(got, want) {
				t.Errorf("%s: got %v, want %v", f.query, got, want)
			}
		})
	}
}

func has(list []string, s string) bool { return slices.Contains(list, s) }

func uniq(s []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	return m
}

// TestVersions: GET / (the readiness probe) is Octavia's version document.
func TestVersions(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{})
	r := newRawClient(srv.URL, "").get(t, "/")
	mustStatus(t, "GET /", r, http.StatusOK)
	versions := listAt(t, r, "versions")
	current := 0
	for _, v := range versions {
		if v["status"] == "CURRENT" {
			current++
		}
	}
	if current != 1 {
		t.Errorf("GET /: %d CURRENT versions, want 1: %s", current, r)
	}
}
