package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/eventstore/sqlite"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/http/server"
	v2 "github.com/octavia-es/octavia-es/http/v2"
	"github.com/octavia-es/octavia-es/projections"
)

const itSubnet = "a1f0c9d2-7b3e-4c55-9a1d-1e2f3a4b5c6d"

// TestWithRealCollaborators runs the API over the SQLite event store, the
// aggregate and the projected read model (no sagas: load balancers stay in
// PENDING_CREATE), checking the contracts meet: a write is readable at
// once, list parameters reach the read model, refusals keep their text.
func TestWithRealCollaborators(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	rm, err := projections.Open(ctx, filepath.Join(dir, "readmodel.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer rm.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := events.NewRegistry()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = projections.NewProjector(rm, store, reg, log).Run(ctx)
	}()
	defer func() { cancel(); <-done }()

	h, err := server.New(server.Config{V2: v2.Config{ReadYourWritesTimeout: 5 * time.Second}}, v2.Deps{
		Commands: loadbalancer.NewHandler(store, reg, log), ReadModel: rm, Events: store,
		Subnets: staticSubnets{{ID: itSubnet, NetworkID: "b2e1d0c3-8c4f-4d66-8b2e-2f3a4b5c6d7e", CIDR: "127.100.0.0/16", IPVersion: 4}},
		Logger:  log,
	})
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req := httptest.NewRequest(method, path, rd)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Project-Id", "p1")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var m map[string]any
		if rec.Body.Len() > 0 {
			if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
				t.Fatalf("%s %s: %q", method, path, rec.Body.String())
			}
		}
		return rec.Code, m
	}

	code, created := call(http.MethodPost, "/v2.0/lbaas/loadbalancers", `{"loadbalancer": {"name": "it", "vip_subnet_id": "`+itSubnet+`"}}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, created)
	}
	lb := created["loadbalancer"].(map[string]any)
	id := lb["id"].(string)
	if lb["provisioning_status"] != "PENDING_CREATE" || lb["project_id"] != "p1" {
		t.Errorf("created %v", lb)
	}
	code, got := call(http.MethodGet, "/v2.0/lbaas/loadbalancers/"+id, "")
	if code != 200 || got["loadbalancer"].(map[string]any)["name"] != "it" {
		t.Fatalf("read after write: %d %v", code, got)
	}
	code, list := call(http.MethodGet, "/v2.0/lbaas/loadbalancers?name=it&fields=id", "")
	items, _ := list["loadbalancers"].([]any)
	if code != 200 || len(items) != 1 || items[0].(map[string]any)["id"] != id {
		t.Errorf("list: %d %v", code, list)
	}
	if code, list := call(http.MethodGet, "/v2.0/lbaas/loadbalancers?name=other", ""); code != 200 || len(list["loadbalancers"].([]any)) != 0 {
		t.Errorf("filtered list: %d %v", code, list)
	}
	for _, q := range []string{"?sort=bogus", "?marker=" + itSubnet, "?bogus=1"} {
		if code, body := call(http.MethodGet, "/v2.0/lbaas/loadbalancers"+q, ""); code != 400 || body["faultcode"] != "Client" {
			t.Errorf("list%s: %d %v", q, code, body)
		}
	}
	code, refused := call(http.MethodPost, "/v2.0/lbaas/listeners", `{"listener": {"loadbalancer_id": "`+id+`", "protocol": "HTTP", "protocol_port": 80}}`)
	if code != 409 || !strings.Contains(refused["faultstring"].(string), id) {
		t.Errorf("listener on a PENDING_CREATE load balancer: %d %v", code, refused)
	}
	if code, body := call(http.MethodGet, "/v2.0/lbaas/loadbalancers/"+id+"/status", ""); code != 200 || body["statuses"] == nil {
		t.Errorf("status: %d %v", code, body)
	}
	if code, body := call(http.MethodGet, "/v2.0/lbaas/loadbalancers/"+itSubnet, ""); code != 404 {
		t.Errorf("unknown: %d %v", code, body)
	}
}

type staticSubnets []v2.Subnet

func (s staticSubnets) GetSubnet(ctx context.Context, id string) (v2.Subnet, bool, error) {
	for _, x := range s {
		if x.ID == id {
			return x, true, nil
		}
	}
	return v2.Subnet{}, false, nil
}

func (s staticSubnets) ListSubnets(ctx context.Context) ([]v2.Subnet, error) { return s, nil }
