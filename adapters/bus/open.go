package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/ThreeDotsLabs/watermill/message"

	busamqp "github.com/octavia-es/octavia-es/adapters/bus/amqp"
	"github.com/octavia-es/octavia-es/adapters/bus/memory"
	busnats "github.com/octavia-es/octavia-es/adapters/bus/nats"
	buspg "github.com/octavia-es/octavia-es/adapters/bus/postgres"
)

// transport is what each sub-package provides.
type transport interface {
	Publisher() message.Publisher
	// Subscriber returns a subscriber in a consumer group: each message of
	// a topic goes to one subscriber of each group subscribed to it.
	Subscriber(group string) (message.Subscriber, error)
	// Declare makes the broker keep topic's messages for group from now
	// on, even before a subscriber of the group first runs.
	Declare(ctx context.Context, topic, group string) error
	Close() error
}

// Bus is an open transport: a publisher (for the forwarder and the poison
// queue) and subscribers by consumer group (for routers). Safe for
// concurrent use.
type Bus struct {
	cfg Config
	t   transport
}

// Open validates cfg (after defaults), connects the transport and declares
// the consumer group on the topic and PoisonGroup on the poison topic.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Bus, error) {
	if log == nil {
		log = slog.Default()
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("bus: config: %w", err)
	}
	wlog := Logger(log.With("component", "bus", "transport", cfg.Transport))
	var (
		t   transport
		err error
	)
	switch cfg.Transport {
	case TransportGoChannel:
		t = memory.New(wlog)
	case TransportNATS:
		t, err = busnats.Open(ctx, busnats.Config{
			URL: cfg.URL, AckWait: cfg.AckWait, MaxHandlingTime: cfg.MaxHandlingTime,
			RedeliveryDelay: cfg.RedeliveryDelay, StreamMaxAge: cfg.StreamMaxAge,
		}, wlog)
	case TransportAMQP:
		t, err = busamqp.Open(ctx, busamqp.Config{URL: cfg.URL, Exchange: cfg.Exchange}, wlog)
	case TransportPostgres:
		t, err = buspg.Open(ctx, buspg.Config{
			DSN: cfg.URL, Concurrency: cfg.Concurrency, PollInterval: cfg.PollInterval,
			RedeliveryDelay: cfg.RedeliveryDelay, MaxHandlingTime: cfg.MaxHandlingTime,
		}, wlog)
	}
	if err != nil {
		return nil, fmt.Errorf("bus: open %s: %w", cfg.Transport, err)
	}
	b := &Bus{cfg: cfg, t: t}
	if err := b.Declare(ctx, cfg.Topic, cfg.ConsumerGroup); err != nil {
		return nil, errors.Join(err, t.Close())
	}
	if err := b.Declare(ctx, cfg.PoisonTopic(), PoisonGroup); err != nil {
		return nil, errors.Join(err, t.Close())
	}
	return b, nil
}

// Config is the configuration in force (defaults applied).
func (b *Bus) Config() Config { return b.cfg }

// Topic is where the forwarder publishes.
func (b *Bus) Topic() string { return b.cfg.Topic }

// PoisonTopic is where given-up messages go.
func (b *Bus) PoisonTopic() string { return b.cfg.PoisonTopic() }

// Publisher publishes on the transport; the Bus owns it (its Close does
// nothing).
func (b *Bus) Publisher() message.Publisher { return b.t.Publisher() }

// Declare makes the transport keep topic's messages for group (Open
// declares the configured group; declare others a process will consume
// in before their first worker starts).
func (b *Bus) Declare(ctx context.Context, topic, group string) error {
	if !groupRe.MatchString(group) {
		return fmt.Errorf("bus: consumer group %q: want letters, digits, - and _", group)
	}
	if err := b.t.Declare(ctx, topic, group); err != nil {
		return fmt.Errorf("bus: declare %s on %s: %w", group, topic, err)
	}
	return nil
}

// Subscriber returns a subscriber in group ("" = the configured group)
// that handles up to Concurrency messages at once. Close it before the
// Bus.
func (b *Bus) Subscriber(group string) (message.Subscriber, error) {
	if group == "" {
		group = b.cfg.ConsumerGroup
	}
	if !groupRe.MatchString(group) {
		return nil, fmt.Errorf("bus: consumer group %q: want letters, digits, - and _", group)
	}
	sub, err := b.t.Subscriber(group)
	if err != nil {
		return nil, fmt.Errorf("bus: subscriber in %s: %w", group, err)
	}
	return parallel{inner: sub, n: b.cfg.Concurrency}, nil
}

// Close closes the transport's publisher and connections.
func (b *Bus) Close() error { return b.t.Close() }
