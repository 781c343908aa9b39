package eventstoredb

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestOpenInvalidConnectionStringHidesIt(t *testing.T) {
	for _, cs := range []string{"", "http://admin:s3cret@host:2113", "esdb://admin:s3cret@host:notaport", "esdb://admin:s3cret@host:2113/path"} {
		_, err := Open(context.Background(), cs)
		if err == nil {
			t.Errorf("Open(%q) succeeded", cs)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q) error quotes the password: %v", cs, err)
		}
	}
}

func TestOpenRefusesSystemStreams(t *testing.T) {
	_, err := Open(context.Background(), "esdb://127.0.0.1:1?tls=false", WithNamespace("$x-"))
	if !errors.Is(err, errStreamName) {
		t.Errorf("Open with namespace $x- = %v, want errStreamName", err)
	}
}

// No server listens on port 1: Open gives up when its context ends, even
// though the client's discovery ignores contexts.
func TestOpenUnreachableServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Open(ctx, "esdb://127.0.0.1:1?tls=false&maxDiscoverAttempts=1&gossipTimeout=1",
		WithLogger(slog.New(slog.DiscardHandler)))
	if err == nil {
		t.Fatal("Open of an unreachable server succeeded")

	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Open took %v to fail", d)
	}
}

func TestCallCtx(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var discarded []int
	done := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(done)
		v, err := callCtx(ctx, func() (int, error) { <-release; return 7, nil }, func(v int) {
			mu.Lock()
			discarded = append(discarded, v)
			mu.Unlock()
		})
		if v != 0 || !errors.Is(err, context.Canceled) {
			t.Errorf("callCtx after cancel = %d, %v; want 0, context.Canceled", v, err)
		}
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("callCtx did not return when its context ended")
	}
	close(release)
	deadline := time.Now().Add(time.Second)
	for {
		mu.Lock()
		n := len(discarded)
		mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the late result was not discarded")
		}
		time.Sleep(time.Millisecond)
	}
	if v, err := callCtx(context.Background(), func() (int, error) { return 3, nil }, nil); v != 3 || err != nil {
		t.Errorf("callCtx = %d, %v; want 3, nil", v, err)
	}
}

func TestRecoverInto(t *testing.T) {
	f := func() (err error) {
		defer recoverInto(&err)
		panic("unreachable code")
	}
	if err := f(); !errors.Is(err, errClientPanic) || !strings.Contains(err.Error(), "unreachable code") {
		t.Errorf("recovered error = %v", err)
	}
}

type levels struct {
	mu  sync.Mutex
	got []slog.Level
}

func (l *levels) Enabled(context.Context, slog.Level) bool { return true }
func (l *levels) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, r.Level)
	return nil
}
func (l *levels) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *levels) WithGroup(string) slog.Handler      { return l }

func TestClientLogger(t *testing.T) {
	h := &levels{}
	log := clientLogger(slog.New(h))
	for _, lvl := range []string{"debug", "info", "warn", "error"} {
		log(lvl, "subscription has dropped. Reason: %v", errors.New("x"))
	}
	want := []slog.Level{slog.LevelDebug, slog.LevelDebug, slog.LevelInfo, slog.LevelInfo}
	if len(h.got) != len(want) {
		t.Fatalf("levels %v, want %v", h.got, want)
	}
	for i := range want {
		if h.got[i] != want[i] {
			t.Errorf("levels %v, want %v", h.got, want)
			break
		}
	}
}
