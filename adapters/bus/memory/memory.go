// Package memory is the embedded bus: watermill's GoChannel (not durable,
// non-blocking publish) with consumer groups added, so it behaves as the
// brokers do for one process: every group gets every message, and the
// subscribers of one group share its messages.
//
// GoChannel alone sends every message to every subscriber. Here each
// (topic, group) has one GoChannel subscription; the group's subscribers
// all read from it, so each message goes to exactly one of them. A nacked
// message goes back to GoChannel, which sends it again to the group. As
// on the brokers, a subscription holds one unacknowledged message at a
// time (subscribe several times for concurrency).
package memory

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
)

// Transport is the in-process bus. Safe for concurrent use.
type Transport struct {
	gc *gochannel.GoChannel

	mu     sync.Mutex
	groups map[key]*group
	closed bool
}

type key struct{ topic, group string }

// group is one GoChannel subscription shared by the subscribers of a group.
type group struct {
	in     <-chan *message.Message
	cancel context.CancelFunc
	refs   int
}

// New returns an in-process bus.
func New(logger watermill.LoggerAdapter) *Transport {
	return &Transport{
		gc: gochannel.NewGoChannel(gochannel.Config{
			Persistent:                     false,
			BlockPublishUntilSubscriberAck: false,
		}, logger),
		groups: map[key]*group{},
	}
}

// Publisher publishes to every group subscribed to the topic. A message
// published while no group is subscribed is dropped (not durable).
func (t *Transport) Publisher() message.Publisher { return t.gc }

// Subscriber returns a subscriber in group.
func (t *Transport) Subscriber(group string) (message.Subscriber, error) {
	if group == "" {
		return nil, errors.New("memory: consumer group required")
	}
	return &subscriber{t: t, group: group, closing: make(chan struct{})}, nil
}

// Declare does nothing: nothing outlives the process.
func (t *Transport) Declare(context.Context, string, string) error { return nil }

// Close ends every subscription.
func (t *Transport) Close() error {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	return t.gc.Close()
}

func (t *Transport) join(topic, name string) (*group, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, errors.New("memory: bus closed")
	}
	k := key{topic, name}
	g := t.groups[k]
	if g == nil {
		ctx, cancel := context.WithCancel(context.Background())
		in, err := t.gc.Subscribe(ctx, topic)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("memory: subscribe %s: %w", topic, err)
		}
		g = &group{in: in, cancel: cancel}
		t.groups[k] = g
	}
	g.refs++
	return g, nil
}

func (t *Transport) leave(topic, name string, g *group) {
	t.mu.Lock()
	defer t.mu.Unlock()
	g.refs--
	if g.refs == 0 {
		g.cancel()
		delete(t.groups, key{topic, name})
	}
}

type subscriber struct {
	t       *Transport
	group   string
	once    sync.Once
	closing chan struct{}
	wg      sync.WaitGroup
}

func (s *subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	select {
	case <-s.closing:
		return nil, errors.New("memory: subscriber closed")
	default:
	}
	g, err := s.t.join(topic, s.group)
	if err != nil {
		return nil, err
	}
	out := make(chan *message.Message)
	s.wg.Go(func() {
		defer s.t.leave(topic, s.group, g)
		defer close(out)
		for {
			select {
			case m, ok := <-g.in:
				if !ok {
					return
				}
				select {
				case out <- m:
				case <-ctx.Done():
					m.Nack() // to another subscriber of the group
					return
				case <-s.closing:
					m.Nack()
					return
				}
				// One message in flight per subscription, as on the
				// brokers: the next goes to whoever is free.
				select {
				case <-m.Acked():
				case <-m.Nacked():
				case <-ctx.Done():
					return
				case <-s.closing:
					return
				}
			case <-ctx.Done():
				return
			case <-s.closing:
				return
			}
		}
	})
	return out, nil
}

func (s *subscriber) Close() error {
	s.once.Do(func() { close(s.closing) })
	s.wg.Wait()
	return nil
}
