package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/eventstore/sqlite"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/http/server"
	v2 "github.com/octavia-es/octavia-es/http/v2"
	"github.com/octavia-es/octavia-es/projections"
	"github.com/octavia-es/octavia-es/projections/history"
	"github.com/octavia-es/octavia-es/projections/history/historytest"
)

// eventsDataDir records a random history in a data directory's store.
func eventsDataDir(t *testing.T) (string, *sqlite.Store, []events.Envelope) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	if _, err := historytest.Run(ctx, loadbalancer.NewHandler(store, events.NewRegistry(), nil),
		rand.New(rand.NewPCG(1, 1)), historytest.Options{LoadBalancers: 3, Steps: 60}); err != nil {
		t.Fatal(err)
	}
	all, err := store.ReadAll(ctx, 0, 100000)
	if err != nil || len(all) < 20 {
		t.Fatalf("%d events: %v", len(all), err)
	}
	return dir, store, all
}

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, nil, &out, &errb)
	return code, out.String(), errb.String()
}

func TestEventsShowExport(t *testing.T) {
	dir, _, all := eventsDataDir(t)
	pick := all[7]
	for _, ref := range []string{strconv.FormatInt(pick.Position, 10), pick.ID} {
		code, out, errs := runCLI("events", "show", "--data-dir", dir, ref)
		var it history.Item
		if code != 0 || json.Unmarshal([]byte(out), &it) != nil || it.Position != pick.Position || it.ID != pick.ID || it.Type != pick.Type {
			t.Fatalf("show %s: %d %q %q", ref, code, out, errs)
		}
	}
	for _, ref := range []string{"100000", "no-such-id"} {
		if code, _, errs := runCLI("events", "show", "--data-dir", dir, ref); code != 1 || !strings.Contains(errs, "no event") {
			t.Errorf("show %s: %d %q", ref, code, errs)
		}
	}

	code, out, errs := runCLI("events", "export", "--data-dir", dir, "--from", "3", "--to", "9")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != 0 || len(lines) != 7 {
		t.Fatalf("export 3..9: %d %d lines %q", code, len(lines), errs)
	}
	for i, l := range lines {
		var it history.Item
		if err := json.Unmarshal([]byte(l), &it); err != nil || it.Position != int64(3+i) || it.ProjectID == nil || *it.ProjectID != "project-a" {
			t.Fatalf("line %d %q: %v", i, l, err)
		}
	}
	code, out, _ = runCLI("events", "export", "--data-dir", dir, "--raw")
	lines = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var env events.Envelope
	if code != 0 || len(lines) != len(all) || json.Unmarshal([]byte(lines[len(lines)-1]), &env) != nil ||
		env.Position != all[len(all)-1].Position || string(env.Data) != string(all[len(all)-1].Data) {
		t.Fatalf("export --raw: %d, %d lines of %d, last %+v", code, len(lines), len(all), env)
	}
	for _, args := range [][]string{
		{"events"}, {"events", "bogus"}, {"events", "show", "--data-dir", dir}, {"events", "export", "--data-dir", dir, "extra"},
		{"events", "verify", "--data-dir", filepath.Join(dir, "none")},
	} {
		if code, _, _ := runCLI(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestEventsVerify(t *testing.T) {
	dir, _, all := eventsDataDir(t)
	code, out, errs := runCLI("events", "verify", "--data-dir", dir)
	if code != 0 || !strings.HasSuffix(out, "head "+strconv.FormatInt(all[len(all)-1].Position, 10)+": 0 problems\n") {
		t.Fatalf("good store: %d %q %q", code, out, errs)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "events.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE events SET data = 'not json' WHERE position = 5`); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCLI("events", "verify", "--data-dir", dir)
	if code != 1 || !strings.Contains(out, "position 5 (") || !strings.Contains(out, "payload does not decode") || !strings.HasSuffix(out, ": 1 problems\n") {
		t.Fatalf("corrupted store: %d %q", code, out)
	}
	code, out, _ = runCLI("events", "verify", "--json", "--data-dir", dir)
	var rep history.Report
	if code != 1 || json.Unmarshal([]byte(out), &rep) != nil || rep.ProblemCount != 1 || rep.Problems[0].Position != 5 {
		t.Fatalf("--json: %d %q", code, out)
	}
	// verify changed nothing.
	var data string
	if err := db.QueryRow(`SELECT data FROM events WHERE position = 5`).Scan(&data); err != nil || data != "not json" {
		t.Fatalf("row 5 now %q: %v", data, err)
	}
}

// syncBuffer is stdout written by one goroutine and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := strings.TrimSuffix(b.buf.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// TestEventsTail follows a server's stream from a position across a
// dropped connection: every event is printed once, in order.
func TestEventsTail(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, store, all := eventsDataDir(t)
	rm, err := projections.Open(ctx, filepath.Join(dir, "readmodel.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer rm.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := server.New(server.Config{}, v2.Deps{
		Commands: loadbalancer.NewHandler(store, events.NewRegistry(), log), ReadModel: rm, Events: store,
		Subnets: v2.NetworkSubnets(nil), Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer func() { srv.CloseClientConnections(); srv.Close() }()

	var out syncBuffer
	var errs syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"events", "tail", "--url", srv.URL, "--from", "3"}, nil, &out, &errs)
	}()
	waitLines := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for len(out.lines()) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d lines of %d; stderr %q", len(out.lines()), n, errs.buf.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitLines(len(all) - 2)
	srv.CloseClientConnections() // the tail reconnects after the last position it printed
	more, err := historytest.Run(ctx, loadbalancer.NewHandler(store, events.NewRegistry(), nil),
		rand.New(rand.NewPCG(2, 2)), historytest.Options{LoadBalancers: 1, Steps: 10})
	if err != nil || len(more) == 0 {
		t.Fatalf("more events: %v", err)
	}
	head := more[len(more)-1].Position
	waitLines(int(head) - 2)
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d; stderr %q", code, errs.buf.String())
	}
	lines := out.lines()
	if int64(len(lines)) != head-2 {
		t.Fatalf("%d lines, want %d", len(lines), head-2)
	}
	for i, l := range lines {
		var it history.Item
		if err := json.Unmarshal([]byte(l), &it); err != nil || it.Position != int64(i+3) {
			t.Fatalf("line %d %q: %v", i, l, err)
		}
	}
	if !strings.Contains(errs.buf.String(), "reconnecting after position "+strconv.Itoa(len(all))) {
		t.Errorf("stderr %q", errs.buf.String())
	}
}
