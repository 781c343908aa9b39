package sqlite_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/adapters/eventstore/eventstoretest"
	"github.com/octavia-es/octavia-es/adapters/eventstore/sqlite"
	"github.com/octavia-es/octavia-es/events"
)

func TestConformance(t *testing.T) {
	eventstoretest.Run(t, func(t *testing.T) eventstore.Store { return open(t, tempPath(t)) })
}

func tempPath(t testing.TB) string {
	// A missing sub-directory checks that Open creates it.
	return filepath.Join(t.TempDir(), "data", "events.db")
}

func open(t testing.TB, path string, opts ...sqlite.Option) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func closeOnCleanup(t testing.TB, s *sqlite.Store) {
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}

func event(n int) events.Envelope {
	return events.Envelope{Type: "E", SchemaVersion: 1, Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n))}
}

func TestReopenSeesEverything(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	s := open(t, path)
	var want []events.Envelope
	for i := range 5 {
		got, err := s.Append(ctx, fmt.Sprintf("s-%d", i%2), eventstore.ExpectAny, []events.Envelope{event(i), event(i)})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, got...)
	}
	if err := s.Checkpoints().Set(ctx, "forwarder", 7); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, path)
	closeOnCleanup(t, s)
	got, err := s.ReadAll(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("reopened store has %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID || got[i].Position != want[i].Position || !got[i].Time.Equal(want[i].Time) ||
			string(got[i].Data) != string(want[i].Data) {
			t.Errorf("event %d after reopen = %+v, want %+v", i, got[i], want[i])
		}
	}
	if cp, err := s.Checkpoints().Get(ctx, "forwarder"); err != nil || cp != 7 {
		t.Errorf("checkpoint after reopen = %d, %v; want 7", cp, err)
	}
	// Appends continue from the stored versions and positions.
	next, err := s.Append(ctx, "s-0", 6, []events.Envelope{event(9)})
	if err != nil || next[0].Position != 11 || next[0].Version != 7 {
		t.Fatalf("append after reopen = %+v, %v; want position 11 version 7", next, err)
	}
}

func TestCheckpoints(t *testing.T) {
	ctx := context.Background()
	s := open(t, tempPath(t))
	closeOnCleanup(t, s)
	eventstoretest.RunCheckpoints(t, ctx, s.Checkpoints())
}

// TestInProcessAppendWakesSubscriber: with the poll fallback effectively
// off, live delivery must come from Append's wake-up.
func TestInProcessAppendWakesSubscriber(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s := open(t, tempPath(t), sqlite.WithPollInterval(time.Hour))
	closeOnCleanup(t, s)

	delivered := make(chan int64, 1)
	subCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- s.Subscribe(subCtx, 0, func(_ context.Context, e events.Envelope) error {
			delivered <- e.Position
			return nil
		})
	}()
	for i := range 20 {
		if _, err := s.Append(ctx, "s", eventstore.ExpectAny, []events.Envelope{event(i)}); err != nil {
			t.Fatal(err)
		}
		select {
		case pos := <-delivered:
			if pos != int64(i+1) {
				t.Fatalf("delivered position %d, want %d", pos, i+1)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("append %d not delivered without polling", i+1)
		}
	}
	stop()
	if err := <-done; err != context.Canceled {
		t.Errorf("Subscribe returned %v, want context.Canceled", err)
	}
}

// TestAppendDuringHandlerIsNotMissed: an append that commits while the
// handler runs (after the subscriber's read, before its wait) must still
// wake it.
func TestAppendDuringHandlerIsNotMissed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s := open(t, tempPath(t), sqlite.WithPollInterval(time.Hour))
	closeOnCleanup(t, s)
	if _, err := s.Append(ctx, "s", eventstore.ExpectNoStream, []events.Envelope{event(1)}); err != nil {
		t.Fatal(err)
	}
	second := make(chan int64, 1)
	err := s.Subscribe(ctx, 0, func(ctx context.Context, e events.Envelope) error {
		if e.Position == 1 {
			_, err := s.Append(ctx, "s", 1, []events.Envelope{event(2)})
			return err
		}
		second <- e.Position
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("Subscribe returned %v, want the second event delivered without polling", err)
	}
	if pos := <-second; pos != 2 {
		t.Errorf("second delivery at position %d, want 2", pos)
	}
}

var errStop = errors.New("stop")

// TestTwoHandlesOnOneFile stands in for two processes sharing a file: their
// appends interleave gap-free, and a subscriber on one sees the other's
// appends through the poll fallback.
func TestTwoHandlesOnOneFile(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	path := tempPath(t)
	a := open(t, path, sqlite.WithPollInterval(10*time.Millisecond))
	closeOnCleanup(t, a)
	b := open(t, path)
	closeOnCleanup(t, b)

	var seen atomic.Int64
	subCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- a.Subscribe(subCtx, 0, func(_ context.Context, e events.Envelope) error {
			if e.Position != seen.Load()+1 {
				return fmt.Errorf("position %d after %d", e.Position, seen.Load())
			}
			seen.Store(e.Position)
			return nil
		})
	}()

	const perHandle = 40
	errs := make(chan error, 2)
	for i, s := range []*sqlite.Store{a, b} {
		go func() {
			for j := range perHandle {
				if _, err := s.Append(ctx, fmt.Sprintf("h%d", i), int64(j), []events.Envelope{event(j)}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for seen.Load() < 2*perHandle {
		select {
		case err := <-done:
			t.Fatalf("Subscribe stopped early: %v", err)
		case <-ctx.Done():
			t.Fatalf("subscriber saw %d of %d events", seen.Load(), 2*perHandle)
		case <-time.After(5 * time.Millisecond):
		}
	}
	stop()
	if err := <-done; err != context.Canceled {
		t.Errorf("Subscribe returned %v, want context.Canceled", err)
	}
	for _, s := range []*sqlite.Store{a, b} {
		if h, err := s.Head(ctx); err != nil || h != 2*perHandle {
			t.Errorf("Head = %d, %v; want %d", h, err, 2*perHandle)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	cases := []struct{ name, path string }{
		{"empty path", ""},
		{"parent is a file", filepath.Join(tempPath(t), "x", "events.db")},
	}
	// Make the second case's "directory" a file.
	blocker := filepath.Dir(filepath.Dir(cases[1].path))
	s := open(t, blocker)
	closeOnCleanup(t, s)
	for _, c := range cases {
		if s, err := sqlite.Open(context.Background(), c.path); err == nil {
			_ = s.Close()
			t.Errorf("%s: Open(%q) succeeded, want an error", c.name, c.path)
		}
	}
}

func TestReadAllRejectsBadLimit(t *testing.T) {
	s := open(t, tempPath(t))
	closeOnCleanup(t, s)
	for _, limit := range []int{0, -1} {
		if _, err := s.ReadAll(context.Background(), 0, limit); err == nil {
			t.Errorf("ReadAll limit %d succeeded, want an error", limit)
		}
	}
}

func TestFileNameWithURICharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "odd?name#1%.db")
	s := open(t, path)
	closeOnCleanup(t, s)
	if _, err := s.Append(context.Background(), "s", eventstore.ExpectNoStream, []events.Envelope{event(1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file not created under its literal name: %v", err)
	}
}

// TestFailedInsertRollsBackBatch: a batch that fails inside the transaction
// (its second event reuses a stored ID) leaves nothing behind.
func TestFailedInsertRollsBackBatch(t *testing.T) {
	ctx := context.Background()
	s := open(t, tempPath(t))
	closeOnCleanup(t, s)
	first, err := s.Append(ctx, "a", eventstore.ExpectNoStream, []events.Envelope{event(1)})
	if err != nil {
		t.Fatal(err)
	}
	dup := event(3)
	dup.ID = first[0].ID
	if _, err := s.Append(ctx, "b", eventstore.ExpectNoStream, []events.Envelope{event(2), dup}); err == nil {
		t.Fatal("append reusing a stored ID succeeded, want an error")
	}
	if h, err := s.Head(ctx); err != nil || h != 1 {
		t.Errorf("Head = %d, %v after the failed batch; want 1", h, err)
	}
	// The write connection is usable again and positions stay gap-free.
	got, err := s.Append(ctx, "b", eventstore.ExpectNoStream, []events.Envelope{event(4)})
	if err != nil || got[0].Position != 2 {
		t.Fatalf("append after the failed batch = %+v, %v; want position 2", got, err)
	}
}
