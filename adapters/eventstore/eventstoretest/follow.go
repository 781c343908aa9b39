package eventstoretest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/events"
)

var followTests = []test{
	{"FollowerOfConcurrentAppendersSeesEveryPositionOnce", testFollowConcurrentAppenders},
	{"ConcurrentExpectAnyOnOneStreamAllSucceed", testConcurrentExpectAny},
}

func testFollowConcurrentAppenders(t *testing.T, s eventstore.Store, f Features) {
	if err := FollowConcurrentAppendsWithFeatures(testContext(t), s, f, 16, 25); err != nil {
		t.Fatal(err)
	}
}

// FollowConcurrentAppends is the hard case of a store that many processes
// append to: writers goroutines each append appendsPerWriter batches of 1–10
// events to their own stream while a subscriber follows from position 0.
// It returns an error unless the subscriber saw every position exactly once,
// strictly increasing and contiguous (a store whose positions can commit out
// of order, such as one fed by a plain sequence, lets a follower read past a
// position that commits later, and skips it), and unless what it saw equals
// ReadAll. It is exported so a store's own tests can show it catches a
// deliberately broken variant. It requires gap-free positions
// (SQLFeatures); FollowConcurrentAppendsWithFeatures takes the store's.
func FollowConcurrentAppends(ctx context.Context, s eventstore.Store, writers, appendsPerWriter int) error {
	return FollowConcurrentAppendsWithFeatures(ctx, s, SQLFeatures, writers, appendsPerWriter)
}

// FollowConcurrentAppendsWithFeatures is FollowConcurrentAppends for a
// store with the guarantees in feat: without GapFreePositions, positions
// must still be strictly increasing, seen once each, and equal ReadAll's.
func FollowConcurrentAppendsWithFeatures(ctx context.Context, s eventstore.Store, feat Features, writers, appendsPerWriter int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	f := &follower{feat: feat, update: make(chan struct{}, 1)}
	subDone := make(chan error, 1)
	go func() { subDone <- s.Subscribe(ctx, 0, f.handle) }()

	appended := make([]int, writers)
	errs := runAll(writers, func(w int) error {
		rng := rand.New(rand.NewPCG(uint64(w), 0x5eed))
		stream := fmt.Sprintf("follow-%d", w)
		var version int64
		for i := range appendsPerWriter {
			got, err := s.Append(ctx, stream, version, newEvents(fmt.Sprintf("W%d", w), 1+rng.IntN(10)))
			if err != nil {
				return fmt.Errorf("%s append %d: %w", stream, i, err)
			}
			version = got[len(got)-1].Version
			appended[w] += len(got)
		}
		return nil
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	total := 0
	for _, n := range appended {
		total += n
	}

	if err := f.waitFor(ctx, total, subDone); err != nil {
		return err
	}
	cancel()
	if err := <-subDone; !errors.Is(err, context.Canceled) {
		return fmt.Errorf("Subscribe after cancel returned %v, want context.Canceled", err)
	}

	all, err := readAll(context.WithoutCancel(ctx), s)
	if err != nil {
		return err
	}
	got := f.delivered()
	if len(all) != total || len(got) != total {
		return fmt.Errorf("appended %d events, ReadAll returns %d, subscriber saw %d", total, len(all), len(got))
	}
	if err := checkPositions(feat, all, 0); err != nil {
		return err
	}
	for i := range all {
		if d := sameEnvelope(got[i], all[i]); d != "" {
			return fmt.Errorf("delivery %d differs from ReadAll: %s", i, d)
		}
	}
	return nil
}

// follower records deliveries and stops the subscription at the first
// position that does not follow the last (see Features.follows).
type follower struct {
	feat   Features
	mu     sync.Mutex
	got    []events.Envelope
	update chan struct{}
}

var errOutOfOrder = errors.New("delivery out of order")

func (f *follower) handle(_ context.Context, e events.Envelope) error {
	f.mu.Lock()
	var last int64
	if n := len(f.got); n > 0 {
		last = f.got[n-1].Position
	}
	if !f.feat.follows(last, e.Position) {
		f.mu.Unlock()
		return fmt.Errorf("%w: position %d delivered after %d (skipped or repeated)", errOutOfOrder, e.Position, last)
	}
	f.got = append(f.got, e)
	f.mu.Unlock()
	select {
	case f.update <- struct{}{}:
	default:
	}
	return nil
}

func (f *follower) delivered() []events.Envelope {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]events.Envelope(nil), f.got...)
}

// waitFor waits until n events were delivered, the subscription stopped,
// or ctx ended.
func (f *follower) waitFor(ctx context.Context, n int, subDone <-chan error) error {
	for {
		if got := len(f.delivered()); got >= n {
			return nil
		}
		select {
		case <-f.update:
		case err := <-subDone:
			return fmt.Errorf("subscriber stopped after %d of %d events: %w", len(f.delivered()), n, err)
		case <-ctx.Done():
			return fmt.Errorf("subscriber saw %d of %d events: %w", len(f.delivered()), n, ctx.Err())
		}
	}
}

// readAll is readEverything for callers without a *testing.T.
func readAll(ctx context.Context, s eventstore.Store) ([]events.Envelope, error) {
	var all []events.Envelope
	var after int64
	for {
		page, err := s.ReadAll(ctx, after, 1000)
		if err != nil {
			return nil, fmt.Errorf("ReadAll(%d, 1000): %w", after, err)
		}
		if len(page) == 0 {
			return all, nil
		}
		all = append(all, page...)
		after = page[len(page)-1].Position
	}
}

// testConcurrentExpectAny: appenders racing on one stream with ExpectAny
// never get ErrConcurrency; versions come out 1..n in position order.
func testConcurrentExpectAny(t *testing.T, s eventstore.Store, f Features) {
	ctx := testContext(t)
	const writers, appends = 8, 10
	errs := runAll(writers, func(w int) error {
		for i := range appends {
			if _, err := s.Append(ctx, "shared", eventstore.ExpectAny, newEvents(fmt.Sprintf("W%d", w), 1+i%2)); err != nil {
				return fmt.Errorf("writer %d append %d: %w", w, i, err)
			}
		}
		return nil
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	total := int64(writers * (appends + appends/2))
	all := readEverything(ctx, t, s)
	if err := checkPositions(f, all, 0); err != nil || int64(len(all)) != total {
		t.Fatalf("%d events, want %d; positions %v: %v", len(all), total, positions(all), err)
	}
	if !equalInts(versions(all), seq(1, total)) {
		t.Errorf("versions in position order %v, want 1..%d", versions(all), total)
	}
}
