package heartbeat

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type received struct {
	m    Message
	from netip.AddrPort
}

func startReceiver(t *testing.T) (*Receiver, <-chan received) {
	t.Helper()
	ch := make(chan received, 64)
	r, err := NewReceiver("127.0.0.1:0", testKey, func(_ context.Context, m Message, from netip.AddrPort) {
		ch <- received{m, from}
	}, discard())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return r, ch
}

func next(t *testing.T, ch <-chan received) received {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no heartbeat received")
		return received{}
	}
}

func TestSenderToReceiver(t *testing.T) {
	r, ch := startReceiver(t)
	run := func(ctx context.Context) (*Sender, <-chan error) {
		s, err := NewSender(SenderConfig{
			AmphoraID: "amp-1", Targets: []string{r.Addr().String()}, Interval: 20 * time.Millisecond, Key: testKey,
		}, func(context.Context) (Message, error) {
			return Message{Listeners: map[string]Listener{"l1": {Status: "OPEN"}}}, nil
		}, discard())
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		return s, done
	}

	ctx, cancel := context.WithCancel(context.Background())
	s1, done := run(ctx)
	var last uint64
	for i := range 3 {
		got := next(t, ch)
		m := got.m
		if m.AmphoraID != "amp-1" || m.Version != Version || m.BootID != s1.bootID || m.Listeners["l1"].Status != "OPEN" {
			t.Fatalf("heartbeat #%d = %+v", i, m)
		}
		if m.Seq <= last {
			t.Fatalf("heartbeat #%d seq %d not above %d", i, m.Seq, last)
		}
		if now := uint64(time.Now().UnixMicro()); m.Seq > now || now-m.Seq > uint64(5*time.Second/time.Microsecond) {
			t.Fatalf("seq %d is not the send time in microseconds (now %d)", m.Seq, now)
		}
		if !got.from.Addr().IsLoopback() {
			t.Fatalf("from = %v", got.from)
		}
		last = m.Seq
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// A restarted agent is a new run: accepted at once.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	for len(ch) > 0 {
		<-ch
	}
	s2, _ := run(ctx2)
	if got := next(t, ch).m; got.BootID != s2.bootID || got.BootID == s1.bootID {
		t.Fatalf("after restart got boot %q, want the new run's %q", got.BootID, s2.bootID)
	}
	if d := r.Dropped(); d != (Dropped{}) {
		t.Fatalf("dropped %+v, want none", d)
	}
}

func TestReceiverDropsAndCounts(t *testing.T) {
	r, ch := startReceiver(t)
	conn, err := net.Dial("udp", r.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	send := func(b []byte) {
		t.Helper()
		if _, err := conn.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	envelope := func(m Message, key []byte) []byte {
		t.Helper()
		b, err := Encode(m, key)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	waitDropped := func(want Dropped) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for r.Dropped() != want {
			if time.Now().After(deadline) {
				t.Fatalf("dropped = %+v, want %+v", r.Dropped(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	first := envelope(Message{AmphoraID: "amp-1", BootID: "boot-a", Seq: 10}, testKey)
	send(first)
	if got := next(t, ch).m; got.Seq != 10 {
		t.Fatalf("got seq %d", got.Seq)
	}

	send(envelope(Message{AmphoraID: "amp-1", BootID: "boot-a", Seq: 11}, []byte("forger's key")))
	waitDropped(Dropped{BadHMAC: 1})

	send(first[:len(first)-3])
	waitDropped(Dropped{BadHMAC: 2})
	send([]byte("short"))
	waitDropped(Dropped{BadHMAC: 2, Malformed: 1})

	send(first) // captured and replayed
	waitDropped(Dropped{BadHMAC: 2, Malformed: 1, Replayed: 1})

	// The agent restarts (new boot id) with a lower seq: accepted; then the
	// old run's packet replayed again: dropped.
	send(envelope(Message{AmphoraID: "amp-1", BootID: "boot-b", Seq: 1}, testKey))
	if got := next(t, ch).m; got.BootID != "boot-b" {
		t.Fatalf("restart not accepted: %+v", got)
	}
	send(envelope(Message{AmphoraID: "amp-1", BootID: "boot-a", Seq: 99}, testKey))
	waitDropped(Dropped{BadHMAC: 2, Malformed: 1, Replayed: 2})
	if got := r.Accepted(); got != 2 {
		t.Fatalf("accepted = %d, want 2", got)
	}
	select {
	case extra := <-ch:
		t.Fatalf("a dropped packet reached the handler: %+v", extra.m)
	default:
	}
}

func TestNewReceiverAndSenderRejectBadConfig(t *testing.T) {
	h := func(context.Context, Message, netip.AddrPort) {}
	if _, err := NewReceiver("127.0.0.1:0", nil, h, discard()); err == nil {
		t.Error("receiver with an empty key")
	}
	if _, err := NewReceiver("not an address", testKey, h, discard()); err == nil {
		t.Error("receiver on a bad address")
	}
	build := func(context.Context) (Message, error) { return Message{}, nil }
	for _, cfg := range []SenderConfig{
		{Targets: []string{"127.0.0.1:1"}, Interval: time.Second, Key: testKey},
		{AmphoraID: "a", Targets: []string{"127.0.0.1:1"}, Interval: time.Second},
		{AmphoraID: "a", Targets: []string{"127.0.0.1:1"}, Key: testKey},
		{AmphoraID: "a", Targets: []string{"nowhere"}, Interval: time.Second, Key: testKey},
	} {
		if _, err := NewSender(cfg, build, discard()); err == nil {
			t.Errorf("NewSender(%+v) accepted", cfg)
		}
	}
}

func TestNextSeqIsStrictlyIncreasing(t *testing.T) {
	s := &Sender{}
	now := time.Unix(1700000000, 0)
	a := s.nextSeq(now)
	b := s.nextSeq(now)                       // same instant
	c := s.nextSeq(now.Add(-time.Hour))       // clock stepped back
	d := s.nextSeq(now.Add(time.Millisecond)) // clock moved on
	if a != uint64(now.UnixMicro()) || b != a+1 || c != b+1 || d != a+1000 {
		t.Fatalf("seqs %d %d %d %d", a, b, c, d)
	}
}
