// Package nats is the bus over NATS JetStream with watermill-nats: its
// pkg/nats publisher and its pkg/jetstream (pull) subscriber.
//
// Layout, per watermill topic T (a NATS subject):
//   - a stream named T with dots turned into underscores, capturing the
//     subject T (limits retention, MaxAge), created when first needed;
//   - per consumer group G a durable pull consumer named G on that stream
//     (explicit acks): every group gets every message, and the workers of
//     a group (any number of processes) pull from the same consumer, each
//     taking a message when it has a free handler.
//
// Pull, not push: a push consumer with a deliver group hands messages to
// members whether or not they are busy, so messages would queue behind a
// saga that runs for minutes and, past AckWait, be delivered a second time
// elsewhere. A subscription here buffers at most one message.
//
// Deliveries are acknowledged when the handler succeeds, nacked with a
// delay when it fails for good (shutdown), and redelivered by the server
// when a worker dies (after AckWait). A handler may run longer than
// AckWait: its subscriber tells the server "in progress" every AckWait/3
// until the handler acks, nacks or MaxHandlingTime passes. Publishes carry
// the message UUID as Nats-Msg-Id, so the server drops a republish within
// its duplicate window (the forwarder republishes its tail after a crash).
//
// Each subscription runs behind a gate (gate.go): watermill-nats alone
// can panic "send on closed channel" when a subscription ends while a
// delivery comes in, so it is ended only once that cannot happen, and
// Close waits for that before closing watermill's subscriber.
package nats

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmjs "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/jetstream"
	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config of the transport.
type Config struct {
	URL             string
	AckWait         time.Duration // server redelivers a delivery silent this long
	MaxHandlingTime time.Duration // progress reports stop after this
	RedeliveryDelay time.Duration // a nacked delivery waits this long
	StreamMaxAge    time.Duration // retention of a stream
	MaxAckPending   int           // unacked deliveries per consumer group (0: 1000)
}

// Transport holds the publisher's connection; each subscriber has its own.
type Transport struct {
	cfg    Config
	log    watermill.LoggerAdapter
	conn   *natsgo.Conn
	js     natsgo.JetStreamContext
	pub    *wmnats.Publisher
	mu     sync.Mutex
	ready  map[string]bool // streams known to exist
	closed bool
}

// Open connects to the server and checks that JetStream answers.
func Open(ctx context.Context, cfg Config, log watermill.LoggerAdapter) (*Transport, error) {
	if cfg.URL == "" || cfg.AckWait <= 0 || cfg.MaxHandlingTime <= 0 || cfg.RedeliveryDelay <= 0 || cfg.StreamMaxAge <= 0 {
		return nil, errors.New("nats: url and positive durations required")
	}
	if cfg.MaxAckPending <= 0 {
		cfg.MaxAckPending = 1000
	}
	if log == nil {
		log = watermill.NopLogger{}
	}
	conn, err := connect(ctx, cfg.URL, "octavia-es publisher")
	if err != nil {
		return nil, err
	}
	js, err := conn.JetStream(natsgo.Context(ctx))
	if err == nil {
		_, err = js.AccountInfo(natsgo.Context(ctx))
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("nats: jetstream at %s: %w", conn.ConnectedUrlRedacted(), err)
	}
	js, err = conn.JetStream() // without the open's context: it ends
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("nats: jetstream: %w", err)
	}
	pub, err := wmnats.NewPublisherWithNatsConn(conn, wmnats.PublisherPublishConfig{
		Marshaler:         &wmnats.NATSMarshaler{},
		SubjectCalculator: wmnats.DefaultSubjectCalculator,
		JetStream:         wmnats.JetStreamConfig{TrackMsgId: true},
	}, log)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("nats: publisher: %w", err)
	}
	return &Transport{cfg: cfg, log: log, conn: conn, js: js, pub: pub, ready: map[string]bool{}}, nil
}

func connect(ctx context.Context, url, name string) (*natsgo.Conn, error) {
	opts := []natsgo.Option{natsgo.Name(name), natsgo.MaxReconnects(-1), natsgo.ReconnectWait(time.Second)}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) > 0 {
		opts = append(opts, natsgo.Timeout(min(time.Until(dl), 10*time.Second)))
	}
	conn, err := natsgo.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("nats: connect: %w", err)
	}
	return conn, nil
}

// StreamName is the stream that captures topic.
func StreamName(topic string) string { return strings.ReplaceAll(topic, ".", "_") }

// ConsumerName is the durable consumer (and deliver group) of group.
func ConsumerName(group string) string { return strings.ReplaceAll(group, ".", "_") }

// Publisher publishes to JetStream; it creates a topic's stream first.
func (t *Transport) Publisher() message.Publisher { return publisher{t} }

type publisher struct{ t *Transport }

func (p publisher) Publish(topic string, msgs ...*message.Message) error {
	ctx := context.Background()
	if len(msgs) > 0 {
		ctx = msgs[0].Context()
	}
	if err := p.t.ensureStream(ctx, topic); err != nil {
		return err
	}
	if err := p.t.pub.Publish(topic, msgs...); err != nil {
		return fmt.Errorf("nats: publish on %s: %w", topic, err)
	}
	return nil
}

func (p publisher) Close() error { return nil } // the transport owns the connection

// Declare creates topic's stream and group's durable consumer if missing,
// and brings the consumer's settings up to date.
func (t *Transport) Declare(ctx context.Context, topic, group string) error {
	if err := t.ensureStream(ctx, topic); err != nil {
		return err
	}
	stream, name := StreamName(topic), ConsumerName(group)
	info, err := t.js.ConsumerInfo(stream, name, natsgo.Context(ctx))
	switch {
	case errors.Is(err, natsgo.ErrConsumerNotFound):
		cc := &natsgo.ConsumerConfig{
			Durable:       name,
			DeliverPolicy: natsgo.DeliverAllPolicy,
			FilterSubject: topic,
		}
		t.tune(cc)
		_, err = t.js.AddConsumer(stream, cc, natsgo.Context(ctx))
		if errors.Is(err, natsgo.ErrConsumerNameAlreadyInUse) {
			err = nil // another process won the race
		}
	case err == nil && info.Config.DeliverSubject != "":
		err = fmt.Errorf("a push consumer exists under that name (delete it: the bus pulls)")
	case err == nil:
		cc := info.Config
		t.tune(&cc)
		if cc.AckWait != info.Config.AckWait || cc.MaxAckPending != info.Config.MaxAckPending || cc.MaxDeliver != info.Config.MaxDeliver {
			_, err = t.js.UpdateConsumer(stream, &cc, natsgo.Context(ctx))
		}
	}
	if err != nil {
		return fmt.Errorf("nats: consumer %s on stream %s: %w", name, stream, err)
	}
	return nil
}

func (t *Transport) tune(cc *natsgo.ConsumerConfig) {
	cc.AckPolicy = natsgo.AckExplicitPolicy
	cc.AckWait = t.cfg.AckWait
	cc.MaxDeliver = -1 // poison is the router's decision, after its retries
	cc.MaxAckPending = t.cfg.MaxAckPending
}

func (t *Transport) ensureStream(ctx context.Context, topic string) error {
	t.mu.Lock()
	ok := t.ready[topic]
	t.mu.Unlock()
	if ok {
		return nil
	}
	name := StreamName(topic)
	_, err := t.js.StreamInfo(name, natsgo.Context(ctx))
	if errors.Is(err, natsgo.ErrStreamNotFound) {
		_, err = t.js.AddStream(&natsgo.StreamConfig{
			Name:      name,
			Subjects:  []string{topic},
			Retention: natsgo.LimitsPolicy,
			MaxAge:    t.cfg.StreamMaxAge,
			Storage:   natsgo.FileStorage,
		}, natsgo.Context(ctx))
		if errors.Is(err, natsgo.ErrStreamNameAlreadyInUse) {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("nats: stream %s for %s: %w", name, topic, err)
	}
	t.mu.Lock()
	t.ready[topic] = true
	t.mu.Unlock()
	return nil
}

// Subscriber returns a subscriber in group. Its first Subscribe to a topic
// opens a connection for it; each Subscribe call pulls from the group's
// consumer one message at a time (subscribe several times for
// concurrency).
func (t *Transport) Subscriber(group string) (message.Subscriber, error) {
	if group == "" {
		return nil, errors.New("nats: consumer group required")
	}
	return &subscriber{t: t, group: group, closing: make(chan struct{}), subs: map[string]*wmjs.Subscriber{}}, nil
}

type subscriber struct {
	t       *Transport
	group   string
	closing chan struct{}

	mu         sync.Mutex
	subs       map[string]*wmjs.Subscriber // by topic
	closed     bool
	forwarders sync.WaitGroup // one per Subscribe (see gate)
}

// Subscribe runs a watermill subscription behind a gate (see gate): under
// a context of its own, ended by forward once it is safe, not by ctx.
func (s *subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if err := s.t.Declare(ctx, topic, s.group); err != nil {
		return nil, err
	}
	sub, err := s.forTopic(ctx, topic)
	if err != nil {
		return nil, err
	}
	g := newGate(ctx, s.t.log)
	inner, cancel := context.WithCancel(context.WithValue(context.WithoutCancel(ctx), gateKey{}, g))
	in, err := sub.Subscribe(inner, topic)
	if err != nil {
		cancel()
		s.forwarders.Done()
		return nil, fmt.Errorf("nats: subscribe %s in %s: %w", topic, s.group, err)
	}
	out := make(chan *message.Message)
	go func() {
		defer s.forwarders.Done()
		g.forward(in, out, s.closing, cancel)
	}()
	return out, nil
}

// forTopic returns topic's watermill subscriber and counts the caller's
// forwarder in (Close waits for it): the caller must call
// s.forwarders.Done when it returns no error.
func (s *subscriber) forTopic(ctx context.Context, topic string) (*wmjs.Subscriber, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("nats: subscriber closed")
	}
	if sub := s.subs[topic]; sub != nil {
		s.forwarders.Add(1)
		return sub, nil
	}
	conn, err := connect(ctx, s.t.cfg.URL, "octavia-es "+s.group)
	if err != nil {
		return nil, err
	}
	stream, name := StreamName(topic), ConsumerName(s.group)
	sub, err := wmjs.NewSubscriber(wmjs.SubscriberConfig{
		Conn:           conn,
		Logger:         s.t.log,
		AckWaitTimeout: s.t.cfg.MaxHandlingTime,
		ResourceInitializer: func(ctx context.Context, js jetstream.JetStream, _ string) (jetstream.Consumer, func(context.Context, watermill.LoggerAdapter), error) {
			g := gateOf(ctx)
			if g == nil {
				return nil, nil, errors.New("nats: subscription without a gate")
			}
			c, err := js.Consumer(g.outer, stream, name)
			if err != nil {
				return nil, nil, err
			}
			return gatedConsumer{Consumer: c, g: g}, nil, nil
		},
		NakDelay: wmnats.NewStaticDelay(s.t.cfg.RedeliveryDelay),
		// One message buffered per subscription: a pulled message waits
		// for the handler before it, so the fewer the better.
		ConsumeOptions: []jetstream.PullConsumeOpt{jetstream.PullMaxMessages(1)},
		Unmarshaler:    &progress{closing: s.closing, every: s.t.cfg.AckWait / 3, max: s.t.cfg.MaxHandlingTime, log: s.t.log},
	})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("nats: subscriber: %w", err)
	}
	s.subs[topic] = sub
	s.forwarders.Add(1)
	return sub, nil
}

func (s *subscriber) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	subs := s.subs
	s.mu.Unlock()
	// Each forwarder ends its watermill subscription when it is safe;
	// closing watermill's subscriber before would bring the panic back.
	s.forwarders.Wait()
	var errs []error
	for _, sub := range subs {
		if err := sub.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Close closes the publisher's connection (subscribers close their own).
func (t *Transport) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	_ = t.pub.Close()
	return nil
}

// progress decodes deliveries as the publisher's NATSMarshaler encoded
// them and keeps each one alive on the server (InProgress) until it is
// acked or nacked. It never fails (watermill's jetstream subscriber
// dereferences the message of a failed decode): a delivery it cannot
// read comes out with its raw body, so the handler drops it and it is
// acked.
type progress struct {
	closing <-chan struct{}
	every   time.Duration
	max     time.Duration
	log     watermill.LoggerAdapter
}

func (p *progress) Unmarshal(m jetstream.Msg) (*message.Message, error) {
	msg, err := wmjs.DefaultUnmarshaler{}.Unmarshal(m)
	if err != nil {
		p.log.Error("nats: undecodable delivery passed on raw", err, watermill.LogFields{"subject": m.Subject()})
		msg = message.NewMessage(m.Headers().Get(wmnats.WatermillUUIDHdr), m.Data())
	}
	if gm, ok := m.(gatedMsg); ok {
		gm.g.decoded(msg)
	}
	go p.keepAlive(m, msg)
	return msg, nil
}

func (p *progress) keepAlive(m jetstream.Msg, msg *message.Message) {
	tick := time.NewTicker(p.every)
	defer tick.Stop()
	deadline := time.NewTimer(p.max)
	defer deadline.Stop()
	for {
		select {
		case <-msg.Acked():
			return
		case <-msg.Nacked():
			return
		case <-p.closing:
			return
		case <-deadline.C:
			return
		case <-tick.C:
			if err := m.InProgress(); err != nil {
				p.log.Debug("nats: in-progress report failed", watermill.LogFields{"error": err.Error()})
			}
		}
	}
}
