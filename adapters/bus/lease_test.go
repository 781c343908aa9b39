package bus

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestLocalLease(t *testing.T) {
	l := NewLocalLease()
	lost, release, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, _, err := l.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Acquire = %v, want to wait for the holder", err)
	}
	got := make(chan struct{})
	go func() {
		_, r, err := l.Acquire(context.Background())
		if err == nil {
			r()
		}
		close(got)
	}()
	release()
	release() // idempotent: must not free a lease someone else holds
	<-got
	select {
	case <-lost:
		t.Fatal("a local lease was lost")
	default:
	}
	var zero LocalLease // the zero value works too
	if _, r, err := zero.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	} else {
		r()
	}
}

// fakeLease grants on demand and counts; the test takes leases away.
type fakeLease struct {
	mu       sync.Mutex
	grants   int
	releases int
	lost     chan struct{}
	err      error
}

func (l *fakeLease) Acquire(ctx context.Context) (<-chan struct{}, func(), error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return nil, nil, l.err
	}
	l.grants++
	l.lost = make(chan struct{})
	var once sync.Once
	return l.lost, func() { once.Do(func() { l.mu.Lock(); l.releases++; l.mu.Unlock() }) }, nil
}

func (l *fakeLease) takeAway() {
	l.mu.Lock()
	defer l.mu.Unlock()
	close(l.lost)
}

func (l *fakeLease) counts() (int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.grants, l.releases
}

func TestRunWithLeaseStopsOnLossAndResumes(t *testing.T) {
	src, cp, pub := newSource(50), newCheckpoints(0), &publisher{}
	f := NewForwarder(src, cp, pub, Topic, quiet())
	f.FlushInterval = 5 * time.Millisecond
	lease := &fakeLease{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.RunWithLease(ctx, lease) }()
	waitFor(t, "50 published", func() bool { return len(pub.published()) == 50 })
	waitFor(t, "checkpoint 50", func() bool { p, _ := cp.get(); return p == 50 })
	lease.takeAway()
	waitFor(t, "the lease acquired again", func() bool { g, r := lease.counts(); return g == 2 && r == 1 })
	src.add(10)
	waitFor(t, "60 published", func() bool { return len(pub.published()) == 60 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("RunWithLease after cancel = %v", err)
	}
	if g, r := lease.counts(); g != 2 || r != 2 {
		t.Fatalf("grants %d, releases %d; want 2 and 2", g, r)
	}
	for i, m := range pub.published() {
		if env, _ := DecodeMessage(m); env.Position != int64(i+1) {
			t.Fatalf("message %d is position %d: resumed from the wrong place", i, env.Position)
		}
	}
}

func TestRunWithLeaseRetriesAFailedForwarder(t *testing.T) {
	src, cp, pub := newSource(5), newCheckpoints(0), &publisher{failAt: 3}
	f := NewForwarder(src, cp, pub, Topic, quiet())
	f.RetryDelay = 10 * time.Millisecond
	lease := &fakeLease{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.RunWithLease(ctx, lease) }()
	waitFor(t, "the failure released the lease", func() bool { _, r := lease.counts(); return r >= 1 })
	pub.mu.Lock() // Publish reads failAt under the same lock
	pub.failAt = 0
	pub.mu.Unlock()
	waitFor(t, "every event after the retry", func() bool { return len(pub.published()) == 5 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if g, _ := lease.counts(); g < 2 {
		t.Fatalf("lease acquired %d times, want again after the failure", g)
	}
}

func TestRunWithLeaseReturnsLeaseErrors(t *testing.T) {
	f := NewForwarder(newSource(1), newCheckpoints(0), &publisher{}, Topic, quiet())
	boom := errors.New("invalid DSN")
	if err := f.RunWithLease(context.Background(), &fakeLease{err: boom}); !errors.Is(err, boom) {
		t.Fatalf("RunWithLease = %v, want the lease's error", err)
	}
	if err := f.RunWithLease(context.Background(), nil); err == nil {
		t.Fatal("RunWithLease without a lease returned nil")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.RunWithLease(ctx, NewLocalLease()); err != nil {
		t.Fatalf("RunWithLease on an ended context = %v, want nil", err)
	}
}
