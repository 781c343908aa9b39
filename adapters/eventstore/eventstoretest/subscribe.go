package eventstoretest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/events"
)

var subscribeTests = []test{
	{"CatchUpThenLiveWithConcurrentWriters", testSubscribeCatchUpThenLive},
	{"ResumeFromPosition", testSubscribeResume},
	{"StopsOnCancelWhenIdle", testSubscribeCancel},
	{"HandlerErrorStopsAndIsReturned", testSubscribeHandlerError},
}

// waitTimeout bounds how long a test waits for a delivery. Stores that poll
// for new events should poll well within it.
const waitTimeout = 5 * time.Second

// collector is a subscription handler that checks as it goes that each
// position follows the last (contiguous when gap-free).
type collector struct {
	feat   Features
	mu     sync.Mutex
	last   int64
	got    []events.Envelope
	err    error
	update chan struct{} // signalled (non-blocking) after each event
}

func newCollector(f Features, after int64) *collector {
	return &collector{feat: f, last: after, update: make(chan struct{}, 1)}
}

func (c *collector) handle(_ context.Context, e events.Envelope) error {
	c.mu.Lock()
	if !c.feat.follows(c.last, e.Position) && c.err == nil {
		c.err = fmt.Errorf("delivered position %d after %d: gap, duplicate or out of order", e.Position, c.last)
	}
	c.last = e.Position
	c.got = append(c.got, e)
	c.mu.Unlock()
	select {
	case c.update <- struct{}{}:
	default:
	}
	return nil
}

// waitFor waits until n events were delivered and returns them.
func (c *collector) waitFor(t *testing.T, n int) []events.Envelope {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		c.mu.Lock()
		got, err := append([]events.Envelope(nil), c.got...), c.err
		c.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) >= n {
			return got
		}
		select {
		case <-c.update:
		case <-deadline:
			t.Fatalf("after %v: %d events delivered, want %d", waitTimeout, len(got), n)
		}
	}
}

// subscription runs Subscribe in the background; stop cancels it and
// returns what Subscribe returned.
type subscription struct {
	cancel context.CancelFunc
	done   chan error
}

func startSubscription(t *testing.T, s eventstore.Store, after int64, handle func(context.Context, events.Envelope) error) *subscription {
	t.Helper()
	ctx, cancel := context.WithCancel(testContext(t))
	sub := &subscription{cancel: cancel, done: make(chan error, 1)}
	go func() { sub.done <- s.Subscribe(ctx, after, handle) }()
	// Stop before the store is closed (cleanups run last-in first-out).
	t.Cleanup(func() { _ = sub.stop(t) })
	return sub
}

func (sub *subscription) stop(t *testing.T) error {
	t.Helper()
	sub.cancel()
	select {
	case err, ok := <-sub.done:
		if !ok {
			return nil
		}
		close(sub.done)
		return err
	case <-time.After(waitTimeout):
		t.Fatalf("Subscribe did not return within %v of cancel", waitTimeout)
		return nil
	}
}

func testSubscribeCatchUpThenLive(t *testing.T, s eventstore.Store, f Features) {
	ctx := testContext(t)
	// Enough stored events that a batching store crosses batch boundaries.
	const stored, writers, perWriter = 1100, 4, 30
	for i := range stored / 100 {
		mustAppend(ctx, t, s, fmt.Sprintf("old-%d", i%7), eventstore.ExpectAny, newEvents("Old", 100)...)
	}
	c := newCollector(f, 0)
	sub := startSubscription(t, s, 0, c.handle)

	errs := runAll(writers, func(w int) error {
		stream := fmt.Sprintf("live-%d", w)
		for i := 0; i < perWriter; {
			n := min(1+i%3, perWriter-i) // batches of 1, 2, 3 events
			if _, err := s.Append(ctx, stream, int64(i), newEvents("Live", n)); err != nil {
				return fmt.Errorf("%s: %w", stream, err)
			}
			i += n
		}
		return nil
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	total := stored + writers*perWriter
	got := c.waitFor(t, total)

	all := readEverything(ctx, t, s)
	if len(all) != total {
		t.Fatalf("store holds %d events, want %d", len(all), total)
	}
	for i := range all {
		if d := sameEnvelope(got[i], all[i]); d != "" {
			t.Fatalf("delivery %d differs from ReadAll: %s", i, d)
		}
	}
	if err := sub.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Subscribe after cancel returned %v, want context.Canceled", err)
	}
	if n := len(c.waitFor(t, 0)); n != total {
		t.Errorf("%d events delivered in all, want exactly %d", n, total)
	}
}

func testSubscribeResume(t *testing.T, s eventstore.Store, f Features) {
	ctx := testContext(t)
	mustAppend(ctx, t, s, "a", eventstore.ExpectNoStream, newEvents("E", 10)...)
	after := readOrdinals(ctx, t, s, f).mustAt(t, 6)
	c := newCollector(f, after)
	startSubscription(t, s, after, c.handle)
	got := c.waitFor(t, 4)
	if ord := readOrdinals(ctx, t, s, f).of(positions(got)); !equalInts(ord, seq(7, 10)) {
		t.Fatalf("resumed delivery %v (events %v), want events 7..10", positions(got), ord)
	}
	mustAppend(ctx, t, s, "b", eventstore.ExpectNoStream, newEvents("E", 2)...)
	got = c.waitFor(t, 6)
	if ord := readOrdinals(ctx, t, s, f).of(positions(got)); !equalInts(ord, seq(7, 12)) {
		t.Fatalf("delivery %v (events %v), want events 7..12", positions(got), ord)
	}
}

func testSubscribeCancel(t *testing.T, s eventstore.Store, f Features) {
	c := newCollector(f, 0)
	sub := startSubscription(t, s, 0, c.handle)
	time.Sleep(20 * time.Millisecond) // let it reach its idle wait
	start := time.Now()
	if err := sub.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Subscribe after cancel returned %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Subscribe took %v to return after cancel", d)
	}
}

func testSubscribeHandlerError(t *testing.T, s eventstore.Store, f Features) {
	ctx := testContext(t)
	mustAppend(ctx, t, s, "a", eventstore.ExpectNoStream, newEvents("E", 5)...)
	o := readOrdinals(ctx, t, s, f)
	third := o.mustAt(t, 3)
	errBoom := errors.New("boom")
	var calls []int64
	err := s.Subscribe(ctx, 0, func(_ context.Context, e events.Envelope) error {
		calls = append(calls, e.Position)
		if e.Position == third {
			return errBoom
		}
		return nil
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Subscribe returned %v, want the handler's error wrapped", err)
	}
	if ord := o.of(calls); !equalInts(ord, seq(1, 3)) {
		t.Errorf("handler called for %v (events %v), want events 1..3 and nothing after the error", calls, ord)
	}
}
