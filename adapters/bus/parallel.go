package bus

import (
	"context"
	"fmt"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"
)

// parallel subscribes n times to the inner subscriber and merges the
// deliveries: a transport subscription holds one unacknowledged delivery
// at a time (watermill's NATS, AMQP and SQL subscribers wait for the ack
// before the next, and so does memory's), so n subscriptions let the
// router run n handlers at once, and no more: a busy process leaves the
// rest of its group's messages to the others.
type parallel struct {
	inner message.Subscriber
	n     int
}

func (p parallel) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	subCtx, cancel := context.WithCancel(ctx)
	out := make(chan *message.Message)
	var wg sync.WaitGroup
	for i := range p.n {
		in, err := p.inner.Subscribe(subCtx, topic)
		if err != nil {
			cancel()
			wg.Wait()
			return nil, fmt.Errorf("bus: subscription %d of %d to %s: %w", i+1, p.n, topic, err)
		}
		wg.Go(func() {
			for m := range in {
				select {
				case out <- m:
				case <-subCtx.Done():
					m.Nack()
					go drain(in)
					return
				}
			}
		})
	}
	go func() {
		wg.Wait()
		cancel()
		close(out)
	}()
	return out, nil
}

// drain nacks what a closing subscription still sends, until it closes.
func drain(in <-chan *message.Message) {
	for m := range in {
		m.Nack()
	}
}

func (p parallel) Close() error { return p.inner.Close() }
