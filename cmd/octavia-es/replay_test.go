package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/eventstore/postgres"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/projections"
	"github.com/octavia-es/octavia-es/projections/history"
	"github.com/octavia-es/octavia-es/projections/history/historytest"
)

// aliveLoadBalancers folds every stream of the store: the ids a read model
// must list.
func aliveLoadBalancers(t *testing.T, dir string, all []events.Envelope) []string {
	t.Helper()
	ctx := context.Background()
	store, _, code := openDataDir(ctx, "test", "", dir, nil, &bytes.Buffer{})
	if store == nil {
		t.Fatalf("open: %d", code)
	}
	defer store.Close()
	h := loadbalancer.NewHandler(store, events.NewRegistry(), nil)
	var ids []string
	for _, env := range all {
		id := history.LoadBalancerOf(env)
		if slices.Contains(ids, id) {
			continue
		}
		s, err := h.Load(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if s.Alive() {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func listedLoadBalancers(t *testing.T, dir string) []string {
	t.Helper()
	rm, err := projections.Open(context.Background(), filepath.Join(dir, "readmodel.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer rm.Close()
	page, err := rm.ListLoadBalancers(context.Background(), projections.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, lb := range page.Items {
		ids = append(ids, lb.ID)
	}
	slices.Sort(ids)
	return ids
}

func TestReplayCommand(t *testing.T) {
	dir, _, all := eventsDataDir(t)
	head := all[len(all)-1].Position
	want := aliveLoadBalancers(t, dir, all)
	if len(want) == 0 {
		t.Fatal("no load balancer alive: the test would be weak")
	}

	// No read model yet (a server never started, or its file removed).
	code, out, errs := runCLI("replay", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("replay: %d %q", code, errs)
	}
	if wantOut := fmt.Sprintf("replayed loadbalancers, amphorae, status: %d events in ", head); !strings.HasPrefix(out, wantOut) ||
		!strings.Contains(out, fmt.Sprintf("now at position %d; generations loadbalancers=2 amphorae=2 status=2\n", head)) {
		t.Errorf("summary %q", out)
	}
	// stderr is no terminal here: plain lines, the last one the end.
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if !strings.HasPrefix(lines[0], "replay: build ") || !strings.HasPrefix(lines[len(lines)-1], "replay: done 100%") ||
		strings.Contains(errs, "\r") {
		t.Errorf("progress %q", errs)
	}
	if got := listedLoadBalancers(t, dir); !slices.Equal(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}

	code, out, errs = runCLI("replay", "--data-dir", dir, "--projection", "status", "--projection", "amphorae,status")
	if code != 0 || !strings.HasPrefix(out, "replayed amphorae, status: ") || !strings.HasSuffix(out, "generations amphorae=3 status=3\n") {
		t.Errorf("replay of two projections: %d %q %q", code, out, errs)
	}
	if got := listedLoadBalancers(t, dir); !slices.Equal(got, want) {
		t.Errorf("after a partial replay: listed %v, want %v", got, want)
	}

	// A split process's read model, named.
	other := filepath.Join(dir, "readmodel-api.db")
	if code, out, errs := runCLI("replay", "--data-dir", dir, "--read-model", other); code != 0 ||
		!strings.HasSuffix(out, "generations loadbalancers=2 amphorae=2 status=2\n") {
		t.Errorf("replay of readmodel-api.db: %d %q %q", code, out, errs)
	}
}

func TestReplayCommandRefusals(t *testing.T) {
	dir, _, _ := eventsDataDir(t)
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"--data-dir", dir, "--projection", "pools"}, 2, `unknown projection "pools"`},
		{[]string{"--data-dir", dir, "extra"}, 2, "usage: octavia-es replay"},
		{[]string{"--data-dir", t.TempDir()}, 2, "no event store at"},
		{[]string{"--no-such-flag"}, 2, "flag provided but not defined"},
		{[]string{"-h"}, 0, "Statistics are not events"},
	} {
		code, _, errs := runCLI(append([]string{"replay"}, tc.args...)...)
		if code != tc.code || !strings.Contains(errs, tc.err) {
			t.Errorf("%v: %d %q, want %d and %q", tc.args, code, errs, tc.code, tc.err)
		}
	}

	// Another replay holds the lock: nothing changes.
	done := make(chan struct{})
	started := make(chan struct{})
	release := make(chan struct{})
	go func() {
		defer close(done)
		store, _, _ := openDataDir(context.Background(), "test", "", dir, nil, &bytes.Buffer{})
		defer store.Close()
		once := false
		_, _ = projections.Replay(context.Background(), filepath.Join(dir, "readmodel.db"), store, events.NewRegistry(),
			projections.ReplayOptions{BatchEvents: 1, Progress: func(projections.ReplayProgress) {
				if !once {
					once = true
					close(started)
					<-release
				}
			}})
	}()
	<-started
	code, _, errs := runCLI("replay", "--data-dir", dir)
	close(release)
	<-done
	if code != 1 || !strings.Contains(errs, "another replay of this read model is running; nothing changed") {
		t.Errorf("concurrent replay: %d %q", code, errs)
	}
}

func TestReplayProgressRendering(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	build := func(pos int64, elapsed time.Duration) projections.ReplayProgress {
		return projections.ReplayProgress{Phase: projections.ReplayBuild, Position: pos, Target: 1_000_000, Events: pos, Elapsed: elapsed}
	}
	t.Run("terminal", func(t *testing.T) {
		var b bytes.Buffer
		p := &replayProgress{w: &b, terminal: true, every: 100 * time.Millisecond, width: 10}
		p.report(t0, build(250_000, 5*time.Second))
		p.report(t0.Add(50*time.Millisecond), build(260_000, 5*time.Second)) // too soon: not drawn
		p.report(t0.Add(200*time.Millisecond), build(500_000, 10*time.Second))
		p.report(t0.Add(210*time.Millisecond), projections.ReplayProgress{Phase: projections.ReplayDone,
			Position: 1_000_000, Target: 1_000_000, Events: 1_000_000, Elapsed: 20 * time.Second})
		want := "\r\x1b[Kbuild    [##--------]  25%  250,000/1,000,000 events  50,000 events/s  ETA 15s" +
			"\r\x1b[Kbuild    [#####-----]  50%  500,000/1,000,000 events  50,000 events/s  ETA 10s" +
			"\r\x1b[Kdone     [##########] 100%  1,000,000/1,000,000 events  50,000 events/s\n"
		if b.String() != want {
			t.Errorf("got  %q\nwant %q", b.String(), want)
		}
	})
	t.Run("plain", func(t *testing.T) {
		var b bytes.Buffer
		p := &replayProgress{w: &b, every: 2 * time.Second, width: 10}
		p.report(t0, build(100_000, time.Second))
		p.report(t0.Add(time.Second), build(200_000, 2*time.Second)) // too soon
		p.report(t0.Add(1500*time.Millisecond), projections.ReplayProgress{Phase: projections.ReplayIndex,
			Position: 1_000_000, Target: 1_000_000, Events: 1_000_000, Elapsed: 4 * time.Second}) // a new phase: always
		p.finish() // no bar to end
		want := "replay: build  10%  100,000/1,000,000 events  100,000 events/s  ETA 9s\n" +
			"replay: index 100%  1,000,000/1,000,000 events  250,000 events/s\n"
		if b.String() != want {
			t.Errorf("got  %q\nwant %q", b.String(), want)
		}
	})
	if isTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is no terminal")
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -45000: "-45,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q", n, got)
		}
	}
}

// TestReplayCommandPostgres: with a configuration naming the PostgreSQL
// store (read_model.driver auto), `octavia-es replay` rebuilds the shared
// PostgreSQL read model from the PostgreSQL store, lists what the events
// hold, and a second run switches to the next generation.
func TestReplayCommandPostgres(t *testing.T) {
	ctx := context.Background()
	dsn, schema := pgSchema(t)
	if code, _, errs := runCLI("migrate", "--postgres-dsn", dsn, "--postgres-schema", schema); code != 0 {
		t.Fatalf("migrate: %d %s", code, errs)
	}
	store, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	h := loadbalancer.NewHandler(store, events.NewRegistry(), nil)
	if _, err := historytest.Run(ctx, h, rand.New(rand.NewPCG(2, 2)), historytest.Options{LoadBalancers: 4, Steps: 60}); err != nil {
		t.Fatal(err)
	}
	all, err := store.ReadAll(ctx, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, env := range all {
		id := history.LoadBalancerOf(env)
		if slices.Contains(want, id) {
			continue
		}
		if s, err := h.Load(ctx, id); err != nil {
			t.Fatal(err)
		} else if s.Alive() {
			want = append(want, id)
		}
	}
	slices.Sort(want)
	if len(want) == 0 {
		t.Fatal("no load balancer alive: the test would be weak")
	}
	env := []string{"OCTAVIA_ES_STORE_DRIVER=postgres", "OCTAVIA_ES_STORE_POSTGRES_DSN=" + dsn, "OCTAVIA_ES_STORE_POSTGRES_SCHEMA=" + schema}
	for gen := 2; gen <= 3; gen++ {
		var out, errs bytes.Buffer
		if code := run(ctx, []string{"replay"}, env, &out, &errs); code != 0 {
			t.Fatalf("replay: %d %s", code, errs.String())
		}
		if !strings.Contains(out.String(), fmt.Sprintf("generations loadbalancers=%d", gen)) {
			t.Errorf("replay %d: %q", gen, out.String())
		}
	}
	rm, err := projections.OpenPostgres(ctx, projections.PostgresConfig{DSN: dsn, Schema: schema + "_read_model"})
	if err != nil {
		t.Fatal(err)
	}
	defer rm.Close()
	page, err := rm.ListLoadBalancers(ctx, projections.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, lb := range page.Items {
		got = append(got, lb.ID)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("the PostgreSQL read model lists %v, want %v", got, want)
	}
}
