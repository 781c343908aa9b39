package server_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/octavia-es/octavia-es/http/server"
	v2 "github.com/octavia-es/octavia-es/http/v2"
	"github.com/octavia-es/octavia-es/http/v2/v2fake"
)

func newHandler(t *testing.T, read *v2fake.ReadModel) http.Handler {
	t.Helper()
	h, err := server.New(server.Config{}, v2.Deps{
		Commands: v2fake.NewCommands(), ReadModel: read, Events: &v2fake.Events{}, Subnets: v2fake.Subnets{},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func get(t *testing.T, h http.Handler, method, url string) (*httptest.ResponseRecorder, any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, url, nil))
	var body any
	if rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s %s: body %q: %v", method, url, rec.Body.String(), err)
		}
	}
	if !strings.HasPrefix(rec.Header().Get("X-Openstack-Request-Id"), "req-") {
		t.Errorf("%s %s: no request id", method, url)
	}
	return rec, body
}

func TestVersionDiscovery(t *testing.T) {
	h := newHandler(t, v2fake.NewReadModel())
	rec, body := get(t, h, http.MethodGet, "http://lb.example:9876/")
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	versions := body.(map[string]any)["versions"].([]any)
	if len(versions) != 27 {
		t.Fatalf("%d versions", len(versions))
	}
	first := versions[0].(map[string]any)
	want := map[string]any{"id": "v2.0", "status": "SUPPORTED", "updated": "2016-12-11T00:00:00Z",
		"links": []any{map[string]any{"href": "http://lb.example:9876/v2", "rel": "self"}}}
	if !reflect.DeepEqual(first, want) {
		t.Errorf("first version %v", first)
	}
	last := versions[26].(map[string]any)
	if last["id"] != "v2.26" || last["status"] != "CURRENT" || last["updated"] != "2022-08-29T00:00:00Z" {
		t.Errorf("last version %v", last)
	}
	for _, p := range []string{"/v2", "/v2.0", "/v2/lbaas", "/v2.0/lbaas/"} {
		rec, body := get(t, h, http.MethodGet, p)
		if rec.Code != 200 || body != "v2" {
			t.Errorf("GET %s: %d %v", p, rec.Code, body)
		}
	}
}

func TestUnknownPathAndMethod(t *testing.T) {
	h := newHandler(t, v2fake.NewReadModel())
	tests := []struct {
		method, path string
		status       int
		title        string
	}{
		{http.MethodGet, "/v2/lbaas/bogus", 404, "Not Found"},
		{http.MethodGet, "/v3", 404, "Not Found"},
		{http.MethodPatch, "/v2/lbaas/loadbalancers", 405, "Method Not Allowed"},
		{http.MethodPost, "/v2/lbaas/loadbalancers/x", 405, "Method Not Allowed"},
	}
	for _, tt := range tests {
		rec, body := get(t, h, tt.method, tt.path)
		want := map[string]any{"code": float64(tt.status), "title": tt.title, "description": ""}
		if rec.Code != tt.status || !reflect.DeepEqual(body, want) {
			t.Errorf("%s %s: %d %v", tt.method, tt.path, rec.Code, body)
		}
	}
}

func TestTrailingSlashAndPanic(t *testing.T) {
	read := v2fake.NewReadModel()
	h := newHandler(t, read)
	rec, _ := get(t, h, http.MethodGet, "/v2.0/lbaas/loadbalancers/")
	if rec.Code != 200 {
		t.Errorf("trailing slash: %d", rec.Code)
	}
	read.Panic = true
	rec, body := get(t, h, http.MethodGet, "/v2/lbaas/loadbalancers/x")
	m, _ := body.(map[string]any)
	if rec.Code != 500 || m["faultcode"] != "Server" || strings.Contains(rec.Body.String(), "scripted") {
		t.Errorf("panic: %d %s", rec.Code, rec.Body.String())
	}
}

func TestNewRequiresDeps(t *testing.T) {
	if _, err := server.New(server.Config{}, v2.Deps{}); err == nil {
		t.Fatal("New accepted missing dependencies")
	}
}
