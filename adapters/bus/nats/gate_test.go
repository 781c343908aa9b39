package nats

import (
	"context"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
)

func TestGateBusyUntilItsOwnMessageIsHanded(t *testing.T) {
	earlier, cur := message.NewMessage("earlier", nil), message.NewMessage("cur", nil)
	cases := []struct {
		name string
		run  func(g *gate)
		busy bool
	}{
		{"entered, not decoded", func(g *gate) { g.enter() }, true},
		{"decoded", func(g *gate) { g.enter(); g.decoded(cur) }, true},
		{"an earlier message handed late", func(g *gate) { g.enter(); g.decoded(cur); g.handed(earlier) }, true},
		{"its message handed", func(g *gate) { g.enter(); g.decoded(cur); g.handed(cur) }, false},
		{"returned without handing", func(g *gate) { g.enter(); g.decoded(cur); g.leave() }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newGate(context.Background(), watermill.NopLogger{})
			tc.run(g)
			if got := g.isBusy(); got != tc.busy {
				t.Fatalf("busy = %v, want %v", got, tc.busy)
			}
		})
	}
}

func TestGateRefusesCallbacksOnceStopped(t *testing.T) {
	g := newGate(context.Background(), watermill.NopLogger{})
	if g.stop() {
		t.Fatal("stop reports a callback in flight, none entered")
	}
	if g.enter() {
		t.Fatal("a callback entered a stopped gate")
	}
}

// forward must not end watermill's subscription (cancel) while a
// callback is before its send on in: that is when watermill would close
// in under it.
func TestForwardEndsTheSubscriptionOnlyAfterTheCallbackSent(t *testing.T) {
	outer, stopOuter := context.WithCancel(context.Background())
	g := newGate(outer, watermill.NopLogger{})
	in, out := make(chan *message.Message), make(chan *message.Message)
	cancelled := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.forward(in, out, make(chan struct{}), func() {
			select {
			case <-cancelled:
			default:
				close(cancelled)
			}
		})
	}()

	if !g.enter() {
		t.Fatal("gate closed before the subscription ended")
	}
	m := message.NewMessage("in-flight", nil)
	g.decoded(m)
	stopOuter()
	select {
	case <-cancelled:
		t.Fatal("subscription ended while a callback was about to send")
	case <-time.After(100 * time.Millisecond):
	}
	in <- m // the callback's send: forward takes it
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("subscription not ended after the callback sent")
	}
	select {
	case <-m.Nacked():
	case <-time.After(5 * time.Second):
		t.Fatal("the message taken while ending was not nacked")
	}
	g.leave()
	if g.enter() {
		t.Fatal("a callback entered after the subscription ended")
	}
	close(in) // watermill closes its output once its context ends
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("forward did not return")
	}
	if _, ok := <-out; ok {
		t.Fatal("out delivered after the end")
	}
}
