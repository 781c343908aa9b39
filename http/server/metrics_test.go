package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/metrics"
	"github.com/octavia-es/octavia-es/http/server"
	v2 "github.com/octavia-es/octavia-es/http/v2"
	"github.com/octavia-es/octavia-es/http/v2/v2fake"
)

// TestMetricsByRoutePattern: over real HTTP, /metrics shows API latency
// samples labelled with the route pattern (never the raw path, so an id
// does not appear) and the status code, and counts each request.
func TestMetricsByRoutePattern(t *testing.T) {
	m := metrics.New("api")
	h, err := server.New(server.Config{Metrics: m.Handler(), Observer: m}, v2.Deps{
		Commands: v2fake.NewCommands(), ReadModel: v2fake.NewReadModel(), Events: &v2fake.Events{}, Subnets: v2fake.Subnets{},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	const id = "3f1c7d0e-0000-4000-8000-000000000042"
	for _, p := range []string{"/v2/lbaas/loadbalancers", "/v2/lbaas/loadbalancers", "/v2/lbaas/loadbalancers/" + id, "/nowhere/" + id, "/v2/nowhere/" + id, "/"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	body := scrape(t, srv.URL)
	for _, want := range []string{
		`octavia_es_api_request_duration_seconds_count{code="200",method="GET",process="api",route="/v2/lbaas/loadbalancers"} 2`,
		`octavia_es_api_request_duration_seconds_count{code="404",method="GET",process="api",route="/v2/lbaas/loadbalancers/{id}"} 1`,
		`octavia_es_api_request_duration_seconds_count{code="404",method="GET",process="api",route="unmatched"} 2`,
		`octavia_es_api_request_duration_seconds_count{code="200",method="GET",process="api",route="/"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("no %s in\n%s", want, grep(body, "request_duration_seconds_count"))
		}
	}
	if strings.Contains(body, id) {
		t.Errorf("a raw path became a label:\n%s", grep(body, id))
	}
	if strings.Contains(body, `route="/metrics"`) {
		t.Error("scrapes are counted as API requests")
	}
}

func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

func grep(s, sub string) string {
	var out []string
	for l := range strings.Lines(s) {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}
