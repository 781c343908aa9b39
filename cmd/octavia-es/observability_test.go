package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

var noopEnv = []string{"OCTAVIA_ES_DRIVERS_COMPUTE=noop", "OCTAVIA_ES_DRIVERS_NETWORK=noop", "OCTAVIA_ES_DRIVERS_AMPHORA=noop"}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startCommand runs `octavia-es args...` until the test ends and returns
// its stderr; it fails the test if the process exits non-zero.
func startCommand(t *testing.T, env []string, args ...string) *syncBuffer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errs := &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, env, io.Discard, errs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("%v exited %d:\n%s", args, code, errs)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("%v did not stop", args)
		}
	})
	return errs
}

// waitHTTP polls url until it answers want.
func waitHTTP(t *testing.T, url string, want int, stderr *syncBuffer) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == want {
				return string(b)
			}
			err = errors.New(resp.Status + ": " + string(b))
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v\n%s", url, err, stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeHealthcheckAndMetrics: over real HTTP, serve answers
// /healthcheck as Octavia does, and /metrics changes with API requests:
// the create's latency by route pattern and code, its events by type,
// the projection lag gauge.
func TestServeHealthcheckAndMetrics(t *testing.T) {
	addr, ops := freeAddr(t), freeAddr(t)
	stderr := startCommand(t, append([]string{"OCTAVIA_ES_METRICS_LISTEN=" + ops}, noopEnv...),
		"serve", "--listen", addr, "--data-dir", t.TempDir())
	base := "http://" + addr
	for _, url := range []string{base + "/healthcheck", "http://" + ops + "/healthcheck"} {
		if body := waitHTTP(t, url, 200, stderr); body != "OK" {
			t.Fatalf("%s: %q", url, body)
		}
	}
	before := waitHTTP(t, base+"/metrics", 200, stderr)
	if strings.Contains(before, "octavia_es_eventstore_events_appended_total") {
		t.Fatalf("events counted before any request:\n%s", before)
	}
	resp, err := http.Post(base+"/v2/lbaas/loadbalancers", "application/json", strings.NewReader(
		`{"loadbalancer": {"vip_subnet_id": "a1f0c9d2-7b3e-4c55-9a1d-1e2f3a4b5c6d", "project_id": "p1"}}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	after := waitHTTP(t, base+"/metrics", 200, stderr)
	if ops := waitHTTP(t, "http://"+ops+"/metrics", 200, stderr); !strings.Contains(ops, "loadbalancer.create_requested") {
		t.Error("metrics.listen does not serve the process's metrics")
	}
	for _, want := range []string{
		`octavia_es_api_request_duration_seconds_count{code="201",method="POST",process="serve",route="/v2/lbaas/loadbalancers"} 1`,
		`octavia_es_eventstore_events_appended_total{process="serve",type="loadbalancer.create_requested"} 1`,
		"octavia_es_projection_lag_events ",
		"go_goroutines",
	} {
		if !strings.Contains(after, want) {
			t.Errorf("no %s in /metrics", want)
		}
	}
}

type fixedPos struct {
	n   int64
	err error
}

func (f *fixedPos) Head(context.Context) (int64, error)       { return f.n, f.err }
func (f *fixedPos) Checkpoint(context.Context) (int64, error) { return f.n, f.err }

// TestStallCheck: a read model behind but moving is healthy; behind and
// still for the stall time is not; caught up is healthy however long.
func TestStallCheck(t *testing.T) {
	store, rm := &fixedPos{n: 10}, &fixedPos{n: 10}
	now := time.Unix(0, 0)
	s := &stallCheck{store: store, rm: rm, after: 30 * time.Second, now: func() time.Time { return now }}
	for i, step := range []struct {
		advance    time.Duration
		head, cp   int64
		wantFailed bool
	}{
		{0, 10, 10, false},
		{time.Minute, 10, 10, false}, // caught up: no lag
		{time.Second, 20, 10, false}, // behind, for 1 s
		{20 * time.Second, 20, 15, false},
		{20 * time.Second, 25, 18, false}, // moving
		{31 * time.Second, 25, 18, true},  // still for 31 s
		{time.Second, 25, 25, false},
	} {
		now = now.Add(step.advance)
		store.n, rm.n = step.head, step.cp
		if err := s.check(context.Background()); (err != nil) != step.wantFailed {
			t.Fatalf("step %d: err %v, want failed %v", i, err, step.wantFailed)
		}
	}
	rm.err = errors.New("database is locked")
	if err := s.check(context.Background()); err == nil {
		t.Fatal("a read model error passed")
	}
}
