package sagas

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestKeyedMutex(t *testing.T) {
	k := newKeyedMutex()
	ctx := context.Background()
	unlockA, err := k.lock(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	// Another key is independent.
	unlockB, err := k.lock(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	unlockB()

	// The same key waits, and gives up with its context.
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := k.lock(waitCtx, "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lock of a held key: err = %v, want deadline exceeded", err)
	}

	got := make(chan struct{})
	go func() {
		unlock, err := k.lock(ctx, "a")
		if err == nil {
			unlock()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("lock acquired while held")
	case <-time.After(10 * time.Millisecond):
	}
	unlockA()
	select {
	case <-got:
	case <-time.After(time.Second):
		t.Fatal("waiter never got the lock")
	}
	if n := k.size(); n != 0 {
		t.Fatalf("%d entries left, want 0", n)
	}
}
