package nats

import (
	"context"
	"sync"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"
)

// A gate ends one watermill jetstream subscription without the panic
// "send on closed channel" that watermill-nats (v2.1.3, the latest) can
// raise on its own: its subscription closes its output channel as soon as
// its context ends or its subscriber closes, while the NATS callback may
// be about to send a delivery on that channel; the callback's select then
// may pick the send and panic in the connection's goroutine, which kills
// the process. Here the watermill subscription runs under a context of
// its own that is ended only once no callback is before that send, and a
// callback after the gate closed gives its delivery back (Nak) without
// reaching watermill.
//
// Callbacks of one subscription run one at a time (one NATS
// subscription), so "before the send" is at most one callback: from its
// start (enter) until its decoded message (decoded) is received from the
// output channel (handed), or until it returns (leave).
type gate struct {
	outer context.Context // the caller's: its end ends the subscription
	log   watermill.LoggerAdapter

	mu      sync.Mutex
	stopped bool
	busy    bool             // a callback has not handed its message over
	cur     *message.Message // that callback's message, once decoded
	left    chan struct{}    // a callback returned (capacity 1)
}

type gateKey struct{}

func newGate(outer context.Context, log watermill.LoggerAdapter) *gate {
	return &gate{outer: outer, log: log, left: make(chan struct{}, 1)}
}

// gateOf is the gate a subscription's context carries (see forward).
func gateOf(ctx context.Context) *gate {
	g, _ := ctx.Value(gateKey{}).(*gate)
	return g
}

func (g *gate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return false
	}
	g.busy, g.cur = true, nil
	return true
}

func (g *gate) decoded(m *message.Message) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.busy {
		g.cur = m
	}
}

// handed: m came out of the output channel. Only the current callback's
// message clears busy: a late call for an earlier one must not.
func (g *gate) handed(m *message.Message) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.busy && g.cur == m {
		g.busy, g.cur = false, nil
	}
}

func (g *gate) leave() {
	g.mu.Lock()
	g.busy, g.cur = false, nil
	g.mu.Unlock()
	select {
	case g.left <- struct{}{}:
	default:
	}
}

// stop closes the gate; it reports whether a callback is before its send.
func (g *gate) stop() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = true
	return g.busy
}

func (g *gate) isBusy() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.busy
}

// forward passes the watermill subscription's messages (in) on to out
// until the caller's context ends or closing closes. Then it closes the
// gate, takes (and nacks) the message a callback may still be sending,
// and only then ends the watermill subscription (cancel); it nacks what
// still comes out and closes out when watermill closes in.
func (g *gate) forward(in <-chan *message.Message, out chan<- *message.Message, closing <-chan struct{}, cancel context.CancelFunc) {
	defer close(out)
	defer cancel()
	for running := true; running; {
		select {
		case m, ok := <-in:
			if !ok {
				return
			}
			g.handed(m)
			select {
			case out <- m:
			case <-g.outer.Done():
				m.Nack()
				running = false
			case <-closing:
				m.Nack()
				running = false
			}
		case <-g.outer.Done():
			running = false
		case <-closing:
			running = false
		}
	}
	for busy := g.stop(); busy; busy = g.isBusy() {
		select {
		case m, ok := <-in:
			if !ok {
				return
			}
			g.handed(m)
			m.Nack()
		case <-g.left:
		}
	}
	cancel()
	for m := range in {
		m.Nack()
	}
}

// gatedConsumer puts a gate in front of watermill's callback.
type gatedConsumer struct {
	jetstream.Consumer
	g *gate
}

func (c gatedConsumer) Consume(handle jetstream.MessageHandler, opts ...jetstream.PullConsumeOpt) (jetstream.ConsumeContext, error) {
	return c.Consumer.Consume(func(m jetstream.Msg) {
		if !c.g.enter() {
			// The subscription is ending: the delivery goes back at once
			// to the group's other members.
			if err := m.Nak(); err != nil {
				c.g.log.Debug("nats: nak of a delivery to an ending subscription failed", watermill.LogFields{"error": err.Error()})
			}
			return
		}
		defer c.g.leave()
		handle(gatedMsg{Msg: m, g: c.g})
	}, opts...)
}

// gatedMsg carries the gate to the unmarshaler, which reports the decoded
// message (decoded): that is what handed looks for.
type gatedMsg struct {
	jetstream.Msg
	g *gate
}
