package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// waitFor polls cond for up to two seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestForwarderResumesAndPublishesInOrder(t *testing.T) {
	src, cp, pub := newSource(250), newCheckpoints(40), &publisher{}
	f := NewForwarder(src, cp, pub, Topic, quiet())
	f.FlushInterval = time.Hour // only count-based flushes and the final one
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	waitFor(t, "210 messages", func() bool { return len(pub.published()) == 210 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}

	msgs := pub.published()
	for i, m := range msgs {
		pos := int64(41 + i)
		env, err := DecodeMessage(m)
		if err != nil {
			t.Fatal(err)
		}
		if env.Position != pos || m.UUID != env.ID || m.UUID != fmt.Sprintf("ev-%d", pos) {
			t.Fatalf("message %d: uuid %s, envelope position %d; want ev-%d", i, m.UUID, env.Position, pos)
		}
		if m.Metadata.Get(MetadataPosition) != fmt.Sprint(pos) || m.Metadata.Get(MetadataStream) != env.Stream ||
			m.Metadata.Get(MetadataType) != env.Type || middleware.MessageCorrelationID(m) != env.CorrelationID {
			t.Fatalf("message %d metadata = %v", i, m.Metadata)
		}
	}
	final, sets := cp.get()
	if final != 250 {
		t.Fatalf("checkpoint = %d, want 250", final)
	}
	// Batched: 140, 240 by count, 250 on shutdown; never one write per event.
	if len(sets) != 3 || sets[0] != 140 || sets[1] != 240 || sets[2] != 250 {
		t.Fatalf("checkpoint writes = %v, want [140 240 250]", sets)
	}
}

func TestForwarderFlushesOnTime(t *testing.T) {
	src, cp, pub := newSource(3), newCheckpoints(0), &publisher{}
	f := NewForwarder(src, cp, pub, Topic, quiet())
	f.FlushInterval = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	waitFor(t, "checkpoint 3 while running", func() bool { p, _ := cp.get(); return p == 3 })
	src.add(2) // new events after catch-up
	waitFor(t, "checkpoint 5 while running", func() bool { p, _ := cp.get(); return p == 5 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(pub.published()); n != 5 {
		t.Fatalf("published %d, want 5", n)
	}
}

func TestForwarderPublishFailureKeepsCheckpointBehind(t *testing.T) {
	src, cp, pub := newSource(10), newCheckpoints(0), &publisher{failAt: 7}
	f := NewForwarder(src, cp, pub, Topic, quiet())
	err := f.Run(context.Background())
	if err == nil {
		t.Fatal("Run returned nil after the publisher failed")
	}
	final, _ := cp.get()
	if final != 6 {
		t.Fatalf("checkpoint = %d, want 6 (the last published: publish before checkpoint)", final)
	}
	// A restart resumes at the failed event.
	pub.failAt = 0
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- NewForwarder(src, cp, pub, Topic, quiet()).Run(ctx) }()
	waitFor(t, "the tail republished", func() bool { return len(pub.published()) == 10 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if env, _ := DecodeMessage(pub.published()[6]); env.Position != 7 {
		t.Fatalf("after restart the 7th message is position %d, want 7", env.Position)
	}
}

func TestForwarderSourceFailure(t *testing.T) {
	src, cp, pub := newSource(5), newCheckpoints(0), &publisher{}
	src.failAt = 4
	err := NewForwarder(src, cp, pub, Topic, quiet()).Run(context.Background())
	if err == nil {
		t.Fatal("Run returned nil after the source failed")
	}
	if final, _ := cp.get(); final != 3 {
		t.Fatalf("checkpoint = %d, want 3", final)
	}
}

func TestForwarderWaitsForReady(t *testing.T) {
	src, cp, pub := newSource(2), newCheckpoints(0), &publisher{}
	f := NewForwarder(src, cp, pub, Topic, quiet())
	ready := make(chan struct{})
	f.Ready = ready
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	time.Sleep(20 * time.Millisecond)
	if n := len(pub.published()); n != 0 {
		t.Fatalf("published %d before ready", n)
	}
	close(ready)
	waitFor(t, "publishing after ready", func() bool { return len(pub.published()) == 2 })
	cancel()
	<-done
}

func TestForwarderRejectsMissingParts(t *testing.T) {
	err := NewForwarder(nil, newCheckpoints(0), &publisher{}, Topic, nil).Run(context.Background())
	if err == nil {
		t.Fatal("Run without a source returned nil")
	}
	f := NewForwarder(newSource(1), newCheckpoints(0), &publisher{}, Topic, nil)
	f.FlushEvery = 0
	if err := f.Run(context.Background()); err == nil || errors.Is(err, context.Canceled) {
		t.Fatalf("Run with FlushEvery 0: %v", err)
	}
}
