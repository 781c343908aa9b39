package eventstoredb

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/events"
)

// recorder is a subscription handler keeping what it saw.
type recorder struct {
	mu   sync.Mutex
	got  []int64
	seen chan struct{}
}

func newRecorder() *recorder { return &recorder{seen: make(chan struct{}, 1)} }

func (r *recorder) handle(_ context.Context, e events.Envelope) error {
	r.mu.Lock()
	r.got = append(r.got, e.Position)
	r.mu.Unlock()
	select {
	case r.seen <- struct{}{}:
	default:
	}
	return nil
}

func (r *recorder) positions() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int64(nil), r.got...)
}

func (r *recorder) waitFor(t *testing.T, n int) []int64 {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		if got := r.positions(); len(got) >= n {
			return got
		}
		select {
		case <-r.seen:
		case <-deadline:
			t.Fatalf("%d events delivered, want %d", len(r.positions()), n)
		}
	}
}

func allPositions(t *testing.T, s *Store) []int64 {
	t.Helper()
	all, err := s.ReadAll(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int64, len(all))
	for i, e := range all {
		out[i] = e.Position
	}
	return out
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// run starts s.Subscribe in the background; stop cancels it and returns
// its error.
func run(t *testing.T, s *Store, after int64, handle func(context.Context, events.Envelope) error) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Subscribe(ctx, after, handle) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Subscribe did not return after cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func TestSubscribeResubscribesAfterADrop(t *testing.T) {
	srv := newFakeServer()
	srv.noise = []string{"$stats-1"}
	s := openFake(t, srv)
	mustAppend(t, s, "loadbalancer-a", eventstore.ExpectNoStream, 5)
	srv.dropAfter = 3

	r := newRecorder()
	stop := run(t, s, 0, r.handle)
	r.waitFor(t, 5)
	mustAppend(t, s, "loadbalancer-a", 5, 2)
	got := r.waitFor(t, 7)
	srv.mu.Lock()
	opts := srv.subOpts // before ReadAll adds its own
	srv.mu.Unlock()
	if want := allPositions(t, s); !equal(got, want) {
		t.Errorf("delivered %v, want each of %v once, in order", got, want)
	}
	if len(opts) != 2 {
		t.Fatalf("%d subscriptions started, want 2 (one drop)", len(opts))
	}
	if from, ok := opts[1].From.(esdb.Position); !ok || int64(from.Commit) != got[2] {
		t.Errorf("resubscribed from %#v, want the third event's position %d", opts[1].From, got[2])
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Subscribe after cancel = %v, want context.Canceled", err)
	}
}

func TestSubscribeRetriesAFailedStart(t *testing.T) {
	srv := newFakeServer()
	s := openFake(t, srv)
	mustAppend(t, s, "loadbalancer-a", eventstore.ExpectNoStream, 2)
	srv.fault("subscribe", codeErr(esdb.ErrorUnavailable))
	srv.fault("subscribe", codeErr(esdb.ErrorCodeNotLeader))
	r := newRecorder()
	run(t, s, 0, r.handle)
	if got := r.waitFor(t, 2); !equal(got, allPositions(t, s)) {
		t.Errorf("delivered %v after two failed starts", got)
	}
}

func TestSubscribeStopsOnARefusal(t *testing.T) {
	srv := newFakeServer()
	s := openFake(t, srv)
	srv.fault("subscribe", codeErr(esdb.ErrorCodeAccessDenied))
	err := s.Subscribe(context.Background(), 0, newRecorder().handle)
	if code, ok := codeOf(err); !ok || code != esdb.ErrorCodeAccessDenied {
		t.Fatalf("Subscribe = %v, want the access-denied error", err)
	}
}

func TestSubscribeHandlerErrorIsNotRetried(t *testing.T) {
	srv := newFakeServer()
	s := openFake(t, srv)
	mustAppend(t, s, "loadbalancer-a", eventstore.ExpectNoStream, 3)
	boom := errors.New("boom")
	calls := 0
	err := s.Subscribe(context.Background(), 0, func(context.Context, events.Envelope) error {
		calls++
		return boom
	})
	if !errors.Is(err, boom) || calls != 1 {
		t.Fatalf("Subscribe = %v after %d calls, want boom after 1", err, calls)
	}
}

func TestSubscribeCancelDuringThePause(t *testing.T) {
	srv := newFakeServer()
	s := openFake(t, srv)
	s.retryMin, s.retryMax = time.Hour, time.Hour
	srv.fault("subscribe", codeErr(esdb.ErrorUnavailable))
	stop := run(t, s, 0, newRecorder().handle)
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	if err := stop(); !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Errorf("Subscribe = %v after %v, want context.Canceled at once", err, time.Since(start))
	}
}

func TestSubscribeSkipsRepeats(t *testing.T) {
	// A server that starts a subscription at the event it is given rather
	// than after it (a read would) must not deliver it twice.
	srv := newFakeServer()
	s := openFake(t, srv)
	first := mustAppend(t, s, "loadbalancer-a", eventstore.ExpectNoStream, 3)
	sub, err := srv.dial()
	if err != nil {
		t.Fatal(err)
	}
	s.c = inclusiveClient{sub.(*fakeClient)}
	r := newRecorder()
	run(t, s, first[0].Position, r.handle)
	if got := r.waitFor(t, 2); !equal(got, []int64{first[1].Position, first[2].Position}) {
		t.Errorf("delivered %v, want %d and %d", got, first[1].Position, first[2].Position)
	}
}

// inclusiveClient starts subscriptions one record early.
type inclusiveClient struct{ *fakeClient }

func (c inclusiveClient) SubscribeToAll(ctx context.Context, opts esdb.SubscribeToAllOptions) (subscription, error) {
	if p, ok := opts.From.(esdb.Position); ok {
		opts.From = esdb.Position{Commit: p.Commit - 1, Prepare: p.Prepare - 1}
	}
	return c.fakeClient.SubscribeToAll(ctx, opts)
}
