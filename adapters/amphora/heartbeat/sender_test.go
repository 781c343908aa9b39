package heartbeat

import (
	"context"
	"net/netip"
	"testing"
	"time"
)

// startReceiverKey is startReceiver with its own HMAC key.
func startReceiverKey(t *testing.T, key []byte) (*Receiver, <-chan received) {
	t.Helper()
	ch := make(chan received, 256)
	r, err := NewReceiver("127.0.0.1:0", key, func(_ context.Context, m Message, from netip.AddrPort) {
		select {
		case ch <- received{m, from}:
		default:
		}
	}, discard())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return r, ch
}

func TestSenderUpdateLive(t *testing.T) {
	keyB := []byte("another-key")
	a, chA := startReceiver(t)
	b, chB := startReceiverKey(t, keyB)
	s, err := NewSender(SenderConfig{
		AmphoraID: "amp-1", Targets: []string{a.Addr().String()}, Interval: time.Hour, Key: testKey,
	}, func(context.Context) (Message, error) { return Message{}, nil }, discard())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	first := next(t, chA).m // sent at once, then not for an hour

	// Invalid settings change nothing.
	for _, bad := range []SenderConfig{
		{Targets: []string{b.Addr().String()}, Interval: 10 * time.Millisecond},                           // no key
		{Targets: []string{b.Addr().String()}, Key: keyB},                                                 // no interval
		{Targets: []string{"nowhere"}, Interval: 10 * time.Millisecond, Key: keyB},                        // not host:port
		{AmphoraID: "amp-2", Targets: []string{b.Addr().String()}, Interval: time.Millisecond, Key: keyB}, // another amphora
	} {
		if err := CheckSenderConfig(bad); err == nil && bad.AmphoraID == "" {
			t.Errorf("CheckSenderConfig(%+v) accepted", bad)
		}
		if err := s.Update(bad); err == nil {
			t.Errorf("Update(%+v) accepted", bad)
		}
	}
	if cfg, _ := s.settings(); cfg.Key == nil || string(cfg.Key) != string(testKey) || cfg.Interval != time.Hour {
		t.Fatalf("settings after refused updates: %+v", cfg)
	}

	// New target, key and interval: sent at once and then every 20 ms, as
	// the same run (boot id kept, sequence still increasing).
	if err := s.Update(SenderConfig{Targets: []string{b.Addr().String()}, Interval: 20 * time.Millisecond, Key: keyB}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	last := first.Seq
	for i := range 5 {
		m := next(t, chB).m
		if m.AmphoraID != "amp-1" || m.BootID != first.BootID || m.Seq <= last {
			t.Fatalf("heartbeat #%d after the update = %+v (first %+v)", i, m, first)
		}
		last = m.Seq
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("5 heartbeats took %v at a 20 ms interval", el)
	}
	if len(chA) != 0 {
		t.Fatalf("the old target still got %d heartbeats", len(chA))
	}
	if d := b.Dropped(); d != (Dropped{}) {
		t.Fatalf("new target dropped %+v", d)
	}

	// No targets: silent, still running.
	if err := s.Update(SenderConfig{Interval: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	for len(chB) > 0 {
		<-chB
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(chB); n != 0 {
		t.Fatalf("%d heartbeats sent without targets", n)
	}
}
