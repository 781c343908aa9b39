package v2_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/http/server"
	v2 "github.com/octavia-es/octavia-es/http/v2"
	"github.com/octavia-es/octavia-es/http/v2/v2fake"
	"github.com/octavia-es/octavia-es/projections"
)

const (
	subnetID  = "a1f0c9d2-7b3e-4c55-9a1d-1e2f3a4b5c6d"
	subnet6ID = "c3f0c9d2-7b3e-4c55-9a1d-1e2f3a4b5c6d"
	otherNet  = "d4f0c9d2-7b3e-4c55-9a1d-1e2f3a4b5c6d"
	networkID = "b2e1d0c3-8c4f-4d66-8b2e-2f3a4b5c6d7e"
	lbID      = "11111111-1111-4111-8111-111111111111"
	listID    = "22222222-2222-4222-8222-222222222222"
	poolID    = "33333333-3333-4333-8333-333333333333"
	memberID  = "44444444-4444-4444-8444-444444444444"
	hmID      = "55555555-5555-4555-8555-555555555555"
	newID     = "99999999-9999-4999-8999-999999999999"
	unknownID = "00000000-0000-4000-8000-000000000000"
)

type env struct {
	t       *testing.T
	cmds    *v2fake.Commands
	read    *v2fake.ReadModel
	events  *v2fake.Events
	vips    *v2fake.VIPs
	handler http.Handler
}

type envOption func(*server.Config, *v2.Deps)

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	e := &env{t: t, cmds: v2fake.NewCommands(), read: v2fake.NewReadModel(), events: &v2fake.Events{}, vips: &v2fake.VIPs{}}
	cfg := server.Config{
		V2:                   v2.Config{ReadYourWritesTimeout: 50 * time.Millisecond},
		NoauthDefaultProject: "",
	}
	deps := v2.Deps{
		Commands: e.cmds, ReadModel: e.read, Events: e.events,
		Subnets: v2fake.Subnets{
			{ID: subnetID, Name: "vip", NetworkID: networkID, CIDR: "10.0.0.0/24", GatewayIP: "10.0.0.1", IPVersion: 4, ProjectID: "admin"},
			{ID: subnet6ID, Name: "vip6", NetworkID: networkID, CIDR: "fd00::/64", IPVersion: 6},
			{ID: otherNet, Name: "other", NetworkID: "e5e1d0c3-8c4f-4d66-8b2e-2f3a4b5c6d7e", CIDR: "10.9.0.0/24", IPVersion: 4},
		},
		VIPs:   e.vips,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		NewID:  v2fake.IDs(newID),
	}
	for _, o := range opts {
		o(&cfg, &deps)
	}
	h, err := server.New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	e.handler = h
	return e
}

type response struct {
	*httptest.ResponseRecorder
	t *testing.T
}

// do sends a request; a body is sent as JSON unless headers say otherwise.
func (e *env) do(method, path, body string, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, "http://octavia.test:9876"+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Project-Id", "tenant-a")
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return response{rec, e.t}
}

// json decodes the body into a generic value.
func (r response) json() map[string]any {
	r.t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body.Bytes(), &m); err != nil {
		r.t.Fatalf("body %q: %v", r.Body.String(), err)
	}
	return m
}

// expectFault checks an Octavia wsme error.
func (r response) expectFault(status int, faultstring string) {
	r.t.Helper()
	if r.Code != status {
		r.t.Fatalf("status %d, want %d; body %s", r.Code, status, r.Body.String())
	}
	m := r.json()
	code := "Client"
	if status >= 500 {
		code = "Server"
	}
	if m["faultcode"] != code || m["faultstring"] != faultstring || m["debuginfo"] != nil || len(m) != 3 {
		r.t.Fatalf("fault body %s\nwant faultstring %q", r.Body.String(), faultstring)
	}
}

// expectPecan checks an Octavia pecan error.
func (r response) expectPecan(status int, description string) {
	r.t.Helper()
	if r.Code != status {
		r.t.Fatalf("status %d, want %d; body %s", r.Code, status, r.Body.String())
	}
	m := r.json()
	if m["code"] != float64(status) || m["title"] != http.StatusText(status) || m["description"] != description || len(m) != 3 {
		r.t.Fatalf("pecan body %s\nwant description %q", r.Body.String(), description)
	}
}

func (r response) expectStatus(status int) response {
	r.t.Helper()
	if r.Code != status {
		r.t.Fatalf("status %d, want %d; body %s", r.Code, status, r.Body.String())
	}
	return r
}

// obj is the object under key of a JSON body.
func (r response) obj(key string) map[string]any {
	r.t.Helper()
	o, ok := r.json()[key].(map[string]any)
	if !ok {
		r.t.Fatalf("no object %q in %s", key, r.Body.String())
	}
	return o
}

// activeGraph stores an ACTIVE load balancer (VIP 10.0.0.10) with a
// listener (HTTP:80, default pool), an HTTP pool with a member, and a
// monitor, in the fake aggregate and read model.
func (e *env) activeGraph() {
	s := loadbalancer.NewState()
	s.Exists = true
	vip := "10.0.0.10"
	s.LoadBalancer = loadbalancer.Node[events.LoadBalancer]{
		Spec: events.LoadBalancer{ID: lbID, ProjectID: "tenant-a", AdminStateUp: true, VipAddress: &vip,
			VipSubnetID: ptr(subnetID), VipNetworkID: ptr(networkID), Provider: "amphora"},
		ProvisioningStatus: loadbalancer.Active, OperatingStatus: loadbalancer.Online, CreatedAt: v2fake.Epoch,
	}
	pid := poolID
	s.Listeners[listID] = &loadbalancer.Node[events.Listener]{
		Spec: events.Listener{ID: listID, ProjectID: "tenant-a", LoadBalancerID: lbID, AdminStateUp: true,
			Protocol: "HTTP", ProtocolPort: 80, DefaultPoolID: &pid, ClientAuthentication: "NONE"},
		ProvisioningStatus: loadbalancer.Active, OperatingStatus: loadbalancer.Online, CreatedAt: v2fake.Epoch,
	}
	s.Pools[poolID] = &loadbalancer.Node[events.Pool]{
		Spec: events.Pool{ID: poolID, ProjectID: "tenant-a", LoadBalancerID: lbID, ListenerID: listID,
			AdminStateUp: true, Protocol: "HTTP", LBAlgorithm: "ROUND_ROBIN"},
		ProvisioningStatus: loadbalancer.Active, OperatingStatus: loadbalancer.Online, CreatedAt: v2fake.Epoch,
	}
	s.Members[memberID] = &loadbalancer.Node[events.Member]{
		Spec: events.Member{ID: memberID, ProjectID: "tenant-a", PoolID: poolID, AdminStateUp: true,
			Address: "10.0.0.20", ProtocolPort: 8080, Weight: 5, Tags: []string{"keep"}},
		ProvisioningStatus: loadbalancer.Active, OperatingStatus: loadbalancer.NoMonitor, CreatedAt: v2fake.Epoch,
	}
	s.HealthMonitors[hmID] = &loadbalancer.Node[events.HealthMonitor]{
		Spec: events.HealthMonitor{ID: hmID, ProjectID: "tenant-a", PoolID: poolID, AdminStateUp: true,
			Type: "TCP", Delay: 5, Timeout: 3, MaxRetries: 3, MaxRetriesDown: 3},
		ProvisioningStatus: loadbalancer.Active, OperatingStatus: loadbalancer.Online, CreatedAt: v2fake.Epoch,
	}
	e.cmds.Put(s)
	e.read.LoadBalancers[lbID] = projections.RenderLoadBalancer(s)
	e.read.Listeners[listID], _ = projections.RenderListener(s, listID)
	e.read.Pools[poolID], _ = projections.RenderPool(s, poolID)
	e.read.Members[memberID], _ = projections.RenderMember(s, memberID)
	e.read.HealthMonitors[hmID], _ = projections.RenderHealthMonitor(s, hmID)
	e.read.Statuses[lbID] = projections.RenderStatusTree(s)
	e.read.Stats[lbID] = projections.Stats{BytesIn: 10, TotalConnections: 2}
	e.read.Stats[listID] = projections.Stats{BytesOut: 7}
}

func ptr[T any](v T) *T { return &v }

// state is the fake aggregate's current state of the test graph.
func (e *env) state() loadbalancer.State { return e.cmds.States[lbID] }
