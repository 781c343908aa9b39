package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	natsgo "github.com/nats-io/nats.go"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/octavia-es/octavia-es/adapters/bus"
	busamqp "github.com/octavia-es/octavia-es/adapters/bus/amqp"
	busnats "github.com/octavia-es/octavia-es/adapters/bus/nats"
)

// The scaled deployment: PostgreSQL event store, NATS JetStream or RabbitMQ bus, and
// 2 api + 2 worker + 1 health-manager processes, on throwaway names.

// scaledLBs: load balancers per batch. 200 through both APIs with noop
// drivers settles in well under a minute on the 2-core machine.
const (
	scaledLBs     = 200
	scaledTimeout = 90 * time.Second
)

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// requireServices skips (fails under CI=true) when PostgreSQL or the broker does not answer.
func requireServices(t *testing.T, pgDSN, transport, busURL string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var problems []string
	if conn, err := pgx.Connect(ctx, pgDSN); err != nil {
		problems = append(problems, fmt.Sprintf("PostgreSQL: %v", err))
	} else {
		_ = conn.Close(ctx)
	}
	if transport == "nats" {
		if nc, err := natsgo.Connect(busURL, natsgo.Timeout(3*time.Second)); err != nil {
			problems = append(problems, fmt.Sprintf("NATS: %v", err))
		} else {
			nc.Close()
		}
	} else if conn, err := amqp091.DialConfig(busURL, amqp091.Config{Dial: amqp091.DefaultDial(3 * time.Second)}); err != nil {
		problems = append(problems, fmt.Sprintf("RabbitMQ: %v", err))
	} else {
		_ = conn.Close()
	}
	if len(problems) == 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("services unreachable: %s", strings.Join(problems, "; "))
	}
	t.Skipf("services unreachable: %s", strings.Join(problems, "; "))
}

// node is one process of the deployment.
type node struct {
	name, url string // url: API's or /healthcheck's base
	logs      *lockedBuffer
	cmd       *exec.Cmd
	exited    chan struct{}
}

func startNode(t *testing.T, command, name string, env, args []string, url string) *node {
	t.Helper()
	n := &node{name: name, url: url, logs: &lockedBuffer{}, exited: make(chan struct{})}
	n.cmd = exec.Command(binary, append([]string{command}, args...)...)
	n.cmd.Env = env
	n.cmd.Stdout, n.cmd.Stderr = n.logs, n.logs
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = n.cmd.Wait(); close(n.exited) }()
	t.Cleanup(func() {
		select {
		case <-n.exited:
		default:
			_ = n.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-n.exited:
			case <-time.After(stopTimeout):
				_ = n.cmd.Process.Kill()
				<-n.exited
			}
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", name, n.logs.tail(80))
		}
	})
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-n.exited:
			t.Fatalf("%s exited before ready:\n%s", name, n.logs.tail(40))
		default:
		}
		if resp, err := hc.Get(url + "/healthcheck"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return n
			}
		}
		time.Sleep(pollInterval)
	}
	t.Fatalf("%s not ready within %s:\n%s", name, readyTimeout, n.logs.tail(40))
	return nil
}

func (n *node) kill(t *testing.T) {
	t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %s: %v", n.name, err)
	}
	<-n.exited
}

func TestScaledPostgresNATS(t *testing.T) {
	testScaled(t, "nats", envOr("OCTAVIA_ES_TEST_NATS", "nats://127.0.0.1:4222"))
}

func TestScaledPostgresRabbitMQ(t *testing.T) {
	testScaled(t, "amqp", envOr("OCTAVIA_ES_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672/"))
}

func testScaled(t *testing.T, transport, busURL string) {
	if testing.Short() {
		t.Skip("multi-process test")
	}
	pgDSN := envOr("OCTAVIA_ES_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	requireServices(t, pgDSN, transport, busURL)

	run := fmt.Sprintf("%d", time.Now().UnixNano())
	schema, topic, exchange := "e2e_"+run, "e2e-"+run+".events", "e2e-"+run
	t.Cleanup(func() { dropScaled(t, pgDSN, transport, busURL, schema, topic, exchange) })

	dir := t.TempDir()
	config := filepath.Join(dir, "octavia-es.yaml")
	if err := os.WriteFile(config, []byte(testConfig(vipCIDR, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(serverOptions{NoopDelay: 20 * time.Millisecond}.environ(),
		"OCTAVIA_ES_STORE_DRIVER=postgres", "OCTAVIA_ES_STORE_POSTGRES_DSN="+pgDSN, "OCTAVIA_ES_STORE_POSTGRES_SCHEMA="+schema,
		"OCTAVIA_ES_BUS_TRANSPORT="+transport, "OCTAVIA_ES_BUS_URL="+busURL, "OCTAVIA_ES_BUS_TOPIC="+topic,
		"OCTAVIA_ES_BUS_EXCHANGE="+exchange,
		// A killed worker's messages go to the other after this silence.
		"OCTAVIA_ES_BUS_ACK_WAIT=2s")

	// Before migrate, the processes refuse to start and say why.
	cmd := exec.Command(binary, "worker", "--config", config, "--data-dir", filepath.Join(dir, "early"))
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "octavia-es migrate") {
		t.Fatalf("worker on an unmigrated schema: %v\n%s", err, out)
	}
	cmd = exec.Command(binary, "migrate", "--postgres-dsn", pgDSN, "--postgres-schema", schema)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}

	start := func(command, name string) *node {
		addr := freeAddr(t)
		flag := "--metrics-listen"
		if command == "api" {
			flag = "--listen"
		}
		return startNode(t, command, name, env,
			[]string{"--config", config, "--data-dir", filepath.Join(dir, name), flag, addr}, "http://"+addr)
	}
	apis := []*node{start("api", "api1"), start("api", "api2")}
	workers := []*node{start("worker", "worker1"), start("worker", "worker2")}
	healthNode := start("health-manager", "health")
	clients := []*rawClient{newRawClient(apis[0].url, "p1"), newRawClient(apis[1].url, "p1")}

	began := time.Now()
	first := createConcurrently(t, clients, "a", scaledLBs, nil)
	waitSettled(t, clients, first, true)
	t.Logf("batch 1: %d load balancers ACTIVE in %s", len(first), time.Since(began).Round(time.Millisecond))
	for i, id := range first {
		evs := lbEvents(t, clients[i%2], id)
		if n, m := countOf(evs, "amphora.booted"), countOf(evs, "loadbalancer.activated"); n != 1 || m != 1 {
			t.Errorf("load balancer %s: %d amphora.booted and %d loadbalancer.activated events, want 1 each: %v", id, n, m, evs)
		}
	}

	assertSharedReadModel(t, pgDSN, schema+"_read_model", dir, len(first))

	// The driver calls, counted by the workers' saga step metrics: each
	// step of each create ran once across the two workers (the events
	// alone cannot tell: a step run twice records its outcome once).
	for _, step := range []string{"boot_amphora", "configure_and_activate"} {
		total := 0
		for _, w := range workers {
			total += stepRuns(t, w, step)
		}
		if total != scaledLBs {
			t.Errorf("%s ran %d times across the workers for %d load balancers", step, total, scaledLBs)
		}
	}

	// Second batch: one worker dies (kill -9) while it runs.
	second := createConcurrently(t, clients, "b", scaledLBs, func(i int) {
		if i == scaledLBs/4 {
			workers[0].kill(t)
		}
	})
	waitSettled(t, clients, second, false)

	// Both APIs allocated VIPs (createConcurrently alternates them) from
	// one ledger: no two ACTIVE load balancers of the run share an address.
	distinctVIPs(t, clients, append(first, second...))

	// Third batch: the process projecting the shared read model dies
	// (kill -9); another takes its lease over, or nothing would settle
	// (reads come from the read model only).
	holder := projectorHolder(t, []*node{apis[0], apis[1], workers[1], healthNode})
	holder.kill(t)
	survivors := []*rawClient{}
	for i, a := range apis {
		if a != holder {
			survivors = append(survivors, clients[i])
		}
	}
	t.Logf("killed %s, which held the projector lease", holder.name)
	if holder == workers[1] { // the last worker: sagas need one
		start("worker", "worker3")
	}
	third := createConcurrently(t, survivors, "c", scaledLBs/4, nil)
	waitSettled(t, survivors, third, true)
}

// projectorHolder is the node that acquired the projector lease last (the
// one projecting now): every process competes for it and logs when it wins.
func projectorHolder(t *testing.T, nodes []*node) *node {
	t.Helper()
	var best *node
	var bestAt string
	for _, n := range nodes {
		for l := range strings.Lines(n.logs.String()) {
			if !strings.Contains(l, `msg="projector: lease acquired"`) {
				continue
			}
			at, _, _ := strings.Cut(strings.TrimPrefix(l, "time="), " ")
			if at > bestAt { // RFC 3339 UTC times order as text
				best, bestAt = n, at
			}
		}
	}
	if best == nil {
		t.Fatal("no process logged acquiring the projector lease")
	}
	return best
}

// distinctVIPs fails when two ACTIVE load balancers among ids have the same
// vip_address, or one has none, as each API's read model shows them.
func distinctVIPs(t *testing.T, clients []*rawClient, ids []string) {
	t.Helper()
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	for ci, c := range clients {
		r, err := c.try(request{Method: http.MethodGet, Path: "/v2/lbaas/loadbalancers?limit=1000&fields=id&fields=provisioning_status&fields=vip_address"})
		if err != nil || r.Status != http.StatusOK {
			t.Fatalf("api%d list: %v %v", ci+1, err, r)
		}
		var list struct {
			LBs []struct {
				ID      string `json:"id"`
				Status  string `json:"provisioning_status"`
				Address string `json:"vip_address"`
			} `json:"loadbalancers"`
		}
		if err := json.Unmarshal(r.Body, &list); err != nil {
			t.Fatalf("api%d list: %v", ci+1, err)
		}
		holder := map[string]string{}
		active, dups := 0, 0
		for _, lb := range list.LBs {
			if !want[lb.ID] || lb.Status != "ACTIVE" {
				continue
			}
			active++
			if lb.Address == "" {
				t.Errorf("api%d: ACTIVE load balancer %s has no vip_address", ci+1, lb.ID)
				continue
			}
			if other, dup := holder[lb.Address]; dup {
				if dups++; dups <= 10 {
					t.Errorf("api%d: load balancers %s and %s are both ACTIVE on VIP %s", ci+1, other, lb.ID, lb.Address)
				}
				continue
			}
			holder[lb.Address] = lb.ID
		}
		if dups > 0 {
			t.Errorf("api%d: %d ACTIVE load balancers share a VIP with another", ci+1, dups)
		}
		if active < scaledLBs { // the first batch alone is all ACTIVE
			t.Errorf("api%d: %d ACTIVE load balancers of the run, want at least %d", ci+1, active, scaledLBs)
		}
		t.Logf("api%d: %d ACTIVE load balancers, %d distinct VIPs", ci+1, active, len(holder))
	}
}

// assertSharedReadModel: the processes serve one read model, in the
// PostgreSQL schema (it holds every load balancer created), and none wrote
// a SQLite read model of its own under dir.
func assertSharedReadModel(t *testing.T, pgDSN, schema, dir string, atLeast int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{schema, "load_balancers"}.Sanitize()).Scan(&n); err != nil {
		t.Fatalf("read model schema %s: %v", schema, err)
	}
	if n < atLeast {
		t.Errorf("read model %s holds %d load balancers, want at least %d", schema, n, atLeast)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*", "readmodel*.db"))
	if len(files) > 0 {
		t.Errorf("processes wrote SQLite read models of their own: %v", files)
	}
}

// stepRuns is a worker's count of successful create saga runs of step.
func stepRuns(t *testing.T, w *node, step string) int {
	t.Helper()
	r, err := newRawClient(w.url, "").try(request{Method: http.MethodGet, Path: "/metrics"})
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("%s /metrics: %v %v", w.name, err, r)
	}
	prefix := `octavia_es_saga_step_duration_seconds_count{operation="create",outcome="ok",process="worker",step="` + step + `"} `
	for _, line := range strings.Split(string(r.Body), "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("%s /metrics: %q", w.name, line)
			}
			return n
		}
	}
	return 0
}

func countOf(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// createConcurrently creates n load balancers through the APIs in turn,
// 16 at a time, and returns their ids; during(i) runs after the i-th.
func createConcurrently(t *testing.T, clients []*rawClient, prefix string, n int, during func(int)) []string {
	t.Helper()
	ids := make([]string, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			body := fmt.Sprintf(`{"loadbalancer":{"name":"%s-%d","vip_subnet_id":"%s"}}`, prefix, i, defaultSubnet)
			r, err := clients[i%len(clients)].try(request{Method: http.MethodPost, Path: "/v2/lbaas/loadbalancers", Body: body})
			if err != nil || r.Status != http.StatusCreated {
				errs <- fmt.Errorf("create %s-%d: %v %v", prefix, i, err, r)
				return
			}
			var obj struct {
				LB struct {
					ID string `json:"id"`
				} `json:"loadbalancer"`
			}
			if err := json.Unmarshal(r.Body, &obj); err != nil || obj.LB.ID == "" {
				errs <- fmt.Errorf("create %s-%d: body %s", prefix, i, r)
				return
			}
			ids[i] = obj.LB.ID
		})
		if during != nil {
			during(i)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	return ids
}

// waitSettled polls both APIs' lists until every id is ACTIVE (allActive)
// or at least not PENDING_* (ACTIVE or ERROR), in both read models.
func waitSettled(t *testing.T, clients []*rawClient, ids []string, allActive bool) {
	t.Helper()
	deadline := time.Now().Add(scaledTimeout)
	for {
		var last string
		done := true
		for ci, c := range clients {
			r, err := c.try(request{Method: http.MethodGet, Path: "/v2/lbaas/loadbalancers?limit=1000&fields=id&fields=provisioning_status"})
			if err != nil || r.Status != http.StatusOK {
				done, last = false, fmt.Sprintf("api%d: %v %v", ci+1, err, r)
				continue
			}
			var list struct {
				LBs []struct {
					ID     string `json:"id"`
					Status string `json:"provisioning_status"`
				} `json:"loadbalancers"`
			}
			if err := json.Unmarshal(r.Body, &list); err != nil {
				t.Fatalf("api%d list: %v", ci+1, err)
			}
			status := map[string]string{}
			for _, lb := range list.LBs {
				status[lb.ID] = lb.Status
			}
			counts := map[string]int{}
			for _, id := range ids {
				s, ok := status[id]
				if !ok {
					s = "MISSING"
				}
				counts[s]++
				if (allActive && s != "ACTIVE") || (!allActive && s != "ACTIVE" && s != "ERROR") {
					done = false
				}
			}
			last += fmt.Sprintf(" api%d: %v", ci+1, counts)
		}
		if done {
			t.Logf("settled:%s", last)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not settled within %s:%s", scaledTimeout, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// dropScaled removes the run's schemas (the event store's and the read
// model's, <schema>_read_model), and its streams or its queues and exchange.
func dropScaled(t *testing.T, pgDSN, transport, busURL, schema, topic, exchange string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if conn, err := pgx.Connect(ctx, pgDSN); err == nil {
		for _, s := range []string{schema, schema + "_read_model"} {
			if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{s}.Sanitize()+" CASCADE"); err != nil {
				t.Errorf("cleanup: drop schema %s: %v", s, err)
			}
		}
		_ = conn.Close(ctx)
	}
	topics := []string{topic, topic + bus.PoisonSuffix}
	if transport == "amqp" {
		conn, err := amqp091.Dial(busURL)
		if err != nil {
			return
		}
		defer conn.Close()
		for tp, g := range map[string]string{topic: bus.DefaultConsumerGroup, topic + bus.PoisonSuffix: bus.PoisonGroup} {
			if ch, err := conn.Channel(); err == nil {
				_, _ = ch.QueueDelete(busamqp.QueueName(tp, g), false, false, false)
				_ = ch.Close()
			}
		}
		if ch, err := conn.Channel(); err == nil {
			if err := ch.ExchangeDelete(exchange, false, false); err != nil {
				t.Errorf("cleanup: delete exchange %s: %v", exchange, err)
			}
			_ = ch.Close()
		}
		return
	}
	nc, err := natsgo.Connect(busURL)
	if err != nil {
		return
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		return
	}
	for _, tp := range topics {
		if err := js.DeleteStream(busnats.StreamName(tp)); err != nil && err != natsgo.ErrStreamNotFound {
			t.Errorf("cleanup: delete stream of %s: %v", tp, err)
		}
	}
}
