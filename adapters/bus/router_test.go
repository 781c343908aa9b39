package bus

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/octavia-es/octavia-es/events"
)

// startBus runs a GoChannel, a router with handle subscribed, and a
// forwarder from src; it stops them at the end of the test.
func startBus(t *testing.T, src Source, handle func(context.Context, events.Envelope) error) *checkpoints {
	t.Helper()
	pubsub := NewGoChannel(quiet())
	r, err := NewRouter(RouterConfig{Retries: 2, RetryInitialInterval: time.Millisecond, RetryMaxInterval: 2 * time.Millisecond, CloseTimeout: time.Second}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	r.AddConsumerHandler("test", Topic, pubsub, EnvelopeHandler(handle, quiet()))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = r.Run(ctx) })
	cp := newCheckpoints(0)
	f := NewForwarder(src, cp, pubsub, Topic, quiet())
	f.Ready = r.Running()
	wg.Go(func() {
		if err := f.Run(ctx); err != nil {
			t.Errorf("forwarder: %v", err)
		}
	})
	t.Cleanup(func() {
		cancel()
		_ = r.Close()
		wg.Wait()
		_ = pubsub.Close()
	})
	return cp
}

func TestBusDeliversEveryEvent(t *testing.T) {
	var mu sync.Mutex
	got := map[int64]string{}
	startBus(t, newSource(50), func(_ context.Context, env events.Envelope) error {
		mu.Lock()
		defer mu.Unlock()
		got[env.Position] = env.ID
		return nil
	})
	waitFor(t, "50 deliveries", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 50 })
	for pos, id := range got {
		if id != "ev-"+strconv.FormatInt(pos, 10) {
			t.Fatalf("position %d delivered id %s", pos, id)
		}
	}
}

func TestBusRetriesThenSucceeds(t *testing.T) {
	var calls atomic.Int32
	startBus(t, newSource(1), func(context.Context, events.Envelope) error {
		if calls.Add(1) < 3 {
			return errors.New("store busy")
		}
		return nil
	})
	waitFor(t, "three attempts", func() bool { return calls.Load() == 3 })
	time.Sleep(30 * time.Millisecond)
	if n := calls.Load(); n != 3 {
		t.Fatalf("handler called %d times, want 3 (two failures, one success)", n)
	}
}

func TestBusGivesUpAfterRetries(t *testing.T) {
	var calls atomic.Int32
	startBus(t, newSource(1), func(context.Context, events.Envelope) error {
		calls.Add(1)
		return errors.New("always fails")
	})
	waitFor(t, "the retries", func() bool { return calls.Load() == 3 })
	time.Sleep(50 * time.Millisecond)
	if n := calls.Load(); n != 3 {
		t.Fatalf("handler called %d times, want 3 (1 + 2 retries, then given up, not redelivered)", n)
	}
}

func TestBusRecoversPanics(t *testing.T) {
	var calls atomic.Int32
	startBus(t, newSource(2), func(_ context.Context, env events.Envelope) error {
		if calls.Add(1) == 1 {
			panic("bug")
		}
		return nil
	})
	waitFor(t, "both events handled after the panic", func() bool { return calls.Load() == 3 })
}

func TestEnvelopeHandlerDropsGarbage(t *testing.T) {
	called := false
	h := EnvelopeHandler(func(context.Context, events.Envelope) error { called = true; return nil }, quiet())
	for _, payload := range []string{`not json`, `{}`, `{"id":"x"}`} {
		if err := h(message.NewMessage("m", []byte(payload))); err != nil {
			t.Fatalf("payload %q: err = %v, want dropped (nil)", payload, err)
		}
	}
	if called {
		t.Fatal("handler called for a message that is no envelope")
	}
	msg, _ := NewMessage(events.Envelope{ID: "e", Stream: "loadbalancer-1", Type: "t", Position: 9})
	boom := errors.New("boom")
	err := EnvelopeHandler(func(context.Context, events.Envelope) error { return boom }, quiet())(msg)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the handler's error wrapped", err)
	}
}

func TestRouterConfigValidate(t *testing.T) {
	bad := []RouterConfig{
		{Retries: -1},
		{RetryInitialInterval: time.Second, RetryMaxInterval: time.Millisecond},
		{CloseTimeout: -time.Second},
	}
	for _, cfg := range bad {
		if _, err := NewRouter(cfg, quiet()); err == nil {
			t.Errorf("NewRouter(%+v) accepted an invalid config", cfg)
		}
	}
}
