package nats_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	natsgo "github.com/nats-io/nats.go"

	busnats "github.com/octavia-es/octavia-es/adapters/bus/nats"
)

func natsURL() string {
	if v := os.Getenv("OCTAVIA_ES_TEST_NATS"); v != "" {
		return v
	}
	return "nats://127.0.0.1:4222"
}

// openTransport opens the transport on a throwaway topic, or skips when
// the server does not answer (unless CI=true).
func openTransport(t *testing.T) (*busnats.Transport, string) {
	t.Helper()
	url := natsURL()
	conn, err := natsgo.Connect(url, natsgo.Timeout(time.Second))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("NATS at %s unreachable (CI=true: it must run): %v", url, err)
		}
		t.Skipf("NATS at %s unreachable: %v", url, err)
	}
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	topic := "octavia-es.oes-test-" + hex.EncodeToString(b)
	t.Cleanup(func() {
		defer conn.Close()
		js, err := conn.JetStream()
		if err == nil {
			err = js.DeleteStream(busnats.StreamName(topic))
		}
		if err != nil && err != natsgo.ErrStreamNotFound {
			t.Errorf("cleanup: delete stream of %s: %v", topic, err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tr, err := busnats.Open(ctx, busnats.Config{
		URL: url, AckWait: time.Second, MaxHandlingTime: time.Minute,
		RedeliveryDelay: time.Millisecond, StreamMaxAge: time.Hour,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr, topic
}

// publishUntilDone keeps topic busy until the test ends, so deliveries
// are on their way whenever a subscription ends.
func publishUntilDone(t *testing.T, tr *busnats.Transport, topic string) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := tr.Publisher().Publish(topic, message.NewMessage(watermill.NewUUID(), []byte("x"))); err != nil {
				t.Errorf("publish: %v", err)
				return
			}
		}
	})
	t.Cleanup(func() { close(stop); wg.Wait() })
}

// drained nacks what ch still delivers and fails unless it closes soon.
func drained(t *testing.T, ch <-chan *message.Message) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m, ok := <-ch:
			if !ok {
				return
			}
			m.Nack()
		case <-deadline:
			t.Fatal("subscription not closed 5 s after its end")
		}
	}
}

func receive(t *testing.T, ch <-chan *message.Message) *message.Message {
	t.Helper()
	select {
	case m, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed")
		}
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no delivery within 5 s")
	}
	return nil
}

// TestEndingSubscriptionsUnderTraffic ends subscriptions, by their
// context and by closing their subscriber, while deliveries stream in
// and a handler holds one. Without the gate watermill-nats panics "send
// on closed channel" in the NATS callback goroutine (the test binary
// dies) within half a second on two cores (measured 6 of 6 runs, all in
// the context part); the close part guards Close's ordering.
func TestEndingSubscriptionsUnderTraffic(t *testing.T) {
	if testing.Short() {
		t.Skip("stress test")
	}
	// More Ps than cores widen the race window (measured: GOMAXPROCS=4
	// on two cores made it show within seconds).
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(4, runtime.GOMAXPROCS(0))))
	tr, topic := openTransport(t)
	if err := tr.Declare(context.Background(), topic, "stress"); err != nil {
		t.Fatal(err)
	}
	publishUntilDone(t, tr, topic)

	budget := time.Now().Add(5 * time.Second)
	ends := 0
	t.Run("context", func(t *testing.T) {
		sub, err := tr.Subscriber("stress")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = sub.Close() }()
		for time.Now().Before(budget.Add(-1500 * time.Millisecond)) {
			ctx, cancel := context.WithCancel(context.Background())
			ch, err := sub.Subscribe(ctx, topic)
			if err != nil {
				cancel()
				t.Fatal(err)
			}
			receive(t, ch).Ack()
			held := receive(t, ch) // in the handler when the subscription ends
			cancel()
			select {
			case <-held.Context().Done():
			case <-time.After(5 * time.Second):
				t.Fatal("a handler's context outlived its subscription's by 5 s")
			}
			held.Nack()
			drained(t, ch)
			ends++
		}
	})
	t.Run("close", func(t *testing.T) {
		for i := 0; i < 100 && time.Now().Before(budget); i++ {
			sub, err := tr.Subscriber("stress")
			if err != nil {
				t.Fatal(err)
			}
			ch, err := sub.Subscribe(context.Background(), topic)
			if err != nil {
				t.Fatal(err)
			}
			receive(t, ch).Ack()
			if err := sub.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			drained(t, ch)
			ends++
		}
	})
	t.Logf("%d subscriptions ended under traffic", ends)
}
