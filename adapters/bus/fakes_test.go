package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/octavia-es/octavia-es/events"
)

// source is an in-memory Source: events 1..n, more with add.
type source struct {
	mu     sync.Mutex
	evs    []events.Envelope
	wake   chan struct{}
	failAt int64 // Subscribe fails when it reaches this position (0 = never)
}

func newSource(n int) *source {
	s := &source{wake: make(chan struct{})}
	s.add(n)
	return s
}

func (s *source) add(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		pos := int64(len(s.evs) + 1)
		s.evs = append(s.evs, events.Envelope{
			ID: fmt.Sprintf("ev-%d", pos), Stream: events.StreamFor(fmt.Sprintf("lb-%d", pos%3)), Version: pos,
			Position: pos, Type: "loadbalancer.create_requested", SchemaVersion: 1,
			CorrelationID: fmt.Sprintf("corr-%d", pos), Data: json.RawMessage(`{}`),
		})
	}
	close(s.wake)
	s.wake = make(chan struct{})
}

func (s *source) Subscribe(ctx context.Context, after int64, handle func(context.Context, events.Envelope) error) error {
	for {
		s.mu.Lock()
		var next []events.Envelope
		if after < int64(len(s.evs)) {
			next = append(next, s.evs[after:]...)
		}
		wake := s.wake
		s.mu.Unlock()
		for _, env := range next {
			if s.failAt != 0 && env.Position == s.failAt {
				return fmt.Errorf("source broken at %d", env.Position)
			}
			if err := handle(ctx, env); err != nil {
				return fmt.Errorf("handle: %w", err)
			}
			after = env.Position
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		}
	}
}

// checkpoints is an in-memory Checkpoints that records every Set.
type checkpoints struct {
	mu   sync.Mutex
	pos  map[string]int64
	sets []int64
}

func newCheckpoints(start int64) *checkpoints {
	return &checkpoints{pos: map[string]int64{CheckpointName: start}}
}

func (c *checkpoints) Get(_ context.Context, name string) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pos[name], nil
}

func (c *checkpoints) Set(_ context.Context, name string, pos int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pos[name] = pos
	c.sets = append(c.sets, pos)
	return nil
}

func (c *checkpoints) get() (int64, []int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pos[CheckpointName], append([]int64(nil), c.sets...)
}

// publisher records published messages; it fails from failAt on.
type publisher struct {
	mu     sync.Mutex
	msgs   []*message.Message
	failAt int64
	seen   chan struct{}
}

func (p *publisher) Publish(topic string, msgs ...*message.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range msgs {
		if p.failAt != 0 && m.Metadata.Get(MetadataPosition) == fmt.Sprint(p.failAt) {
			return fmt.Errorf("broker down")
		}
		p.msgs = append(p.msgs, m)
	}
	if p.seen != nil {
		select {
		case p.seen <- struct{}{}:
		default:
		}
	}
	return nil
}

func (p *publisher) Close() error { return nil }

func (p *publisher) published() []*message.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*message.Message(nil), p.msgs...)
}
