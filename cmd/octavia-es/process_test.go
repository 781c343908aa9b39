package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/octavia-es/octavia-es/adapters/pgtest"
)

// TestSplitProcesses: api, worker and health-manager run as separate
// processes over one data directory: a load balancer created through the
// api goes ACTIVE by the worker's sagas, seen through the api's own read
// model; each process answers /healthcheck and /metrics with its label.
func TestSplitProcesses(t *testing.T) {
	dir := t.TempDir()
	// As deployed (docs/deploy.md): the schema first, then the processes
	// (SQLite cannot switch a new file to WAL under concurrent openers).
	var out, errs strings.Builder
	if code := run(context.Background(), []string{"migrate", "--data-dir", dir}, nil, &out, &errs); code != 0 {
		t.Fatalf("migrate: %d %s", code, errs.String())
	}
	apiAddr, apiOps, workerOps, healthOps := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	apiErr := startCommand(t, noopEnv, "api", "--listen", apiAddr, "--data-dir", dir, "--metrics-listen", apiOps)
	workerErr := startCommand(t, noopEnv, "worker", "--data-dir", dir, "--metrics-listen", workerOps)
	healthErr := startCommand(t, noopEnv, "health-manager", "--data-dir", dir, "--metrics-listen", healthOps)
	base := "http://" + apiAddr
	waitHTTP(t, base+"/healthcheck", 200, apiErr)

	resp, err := http.Post(base+"/v2/lbaas/loadbalancers", "application/json", strings.NewReader(
		`{"loadbalancer": {"vip_subnet_id": "a1f0c9d2-7b3e-4c55-9a1d-1e2f3a4b5c6d", "project_id": "p1"}}`))
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		LoadBalancer struct{ ID, ProvisioningStatus string } `json:"loadbalancer"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&created); err != nil || resp.StatusCode != 201 {
		t.Fatalf("create: %d %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var got struct {
			LoadBalancer struct {
				ProvisioningStatus string `json:"provisioning_status"`
			} `json:"loadbalancer"`
		}
		body := waitHTTP(t, base+"/v2/lbaas/loadbalancers/"+created.LoadBalancer.ID, 200, apiErr)
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		if got.LoadBalancer.ProvisioningStatus == "ACTIVE" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %s; worker:\n%s", got.LoadBalancer.ProvisioningStatus, workerErr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, p := range []struct {
		name, ops string
		stderr    *syncBuffer
		want      []string
		notWant   string
	}{
		{"api", apiOps, apiErr, []string{`type="loadbalancer.create_requested"} 1`, `route="/v2/lbaas/loadbalancers"`}, ""},
		{"worker", workerOps, workerErr, []string{`octavia_es_saga_step_duration_seconds_count{operation="create",outcome="ok",process="worker",step="boot_amphora"} 1`,
			`octavia_es_eventstore_events_appended_total{process="worker"`}, "octavia_es_api_request_duration_seconds_count"},
		{"health-manager", healthOps, healthErr, []string{"octavia_es_projection_lag_events", "octavia_es_amphorae"}, "octavia_es_saga_step_duration_seconds_count"},
	} {
		if body := waitHTTP(t, "http://"+p.ops+"/healthcheck", 200, p.stderr); body != "OK" {
			t.Errorf("%s /healthcheck: %q", p.name, body)
		}
		// Each process's read model catches up on its own: poll.
		var m string
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			m = waitHTTP(t, "http://"+p.ops+"/metrics", 200, p.stderr)
			missing := slices.IndexFunc(p.want, func(w string) bool { return !strings.Contains(m, w) })
			if missing < 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s /metrics: no %s in\n%s", p.name, p.want[missing], grepLines(m, "octavia_es_"))
				break
			}
		}
		if p.notWant != "" && strings.Contains(m, p.notWant) {
			t.Errorf("%s /metrics has %s", p.name, p.notWant)
		}
	}
	if resp, err := http.Get("http://" + workerOps + "/v2/lbaas/loadbalancers"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("the worker serves the API: %d", resp.StatusCode)
		}
	}
}

func TestMigrateSQLiteIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	for i := range 2 {
		var out, errs strings.Builder
		if code := run(context.Background(), []string{"migrate", "--data-dir", dir}, nil, &out, &errs); code != 0 {
			t.Fatalf("run %d: exit %d: %s", i, code, errs.String())
		}
		if !strings.Contains(out.String(), "up to date") {
			t.Fatalf("run %d: %q", i, out.String())
		}
	}
	if _, err := os.Stat(dir + "/events.db"); err != nil {
		t.Fatal(err)
	}
}

// TestMigratePostgresIsIdempotent: against the machine's PostgreSQL
// (pgtest.Require: skipped when unreachable unless CI=true), in a
// throwaway schema: twice, then the tables are there.
func TestMigratePostgresIsIdempotent(t *testing.T) {
	dsn := pgtest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	schema := pgtest.Schema(t, dsn, "es_migrate_", "_read_model")

	for i := range 2 {
		var out, errs strings.Builder
		if code := run(ctx, []string{"migrate", "--postgres-dsn", dsn, "--postgres-schema", schema}, nil, &out, &errs); code != 0 {
			t.Fatalf("run %d: exit %d: %s", i, code, errs.String())
		}
	}
	var tables int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1", schema).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables == 0 {
		t.Fatalf("no tables in %s after migrate", schema)
	}
	var views int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM information_schema.views WHERE table_schema = $1", schema+"_read_model").Scan(&views); err != nil {
		t.Fatal(err)
	}
	if views == 0 {
		t.Fatalf("no read model views in %s_read_model after migrate", schema)
	}
	var out, errs strings.Builder
	if code := run(ctx, []string{"migrate", "--postgres-dsn", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"}, nil, &out, &errs); code == 0 {
		t.Fatal("migrate against no server succeeded")
	}
}

func grepLines(s, sub string) string {
	var out []string
	for l := range strings.Lines(s) {
		if strings.Contains(l, sub) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}
