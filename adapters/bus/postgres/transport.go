// Package postgres is the bus in PostgreSQL tables, through watermill-sql
// (pgx), for a deployment without a broker, and the PostgreSQL lease that
// elects the one forwarder.
//
// The transport is watermill-sql's publisher and subscriber with a schema
// and offsets adapter of ours (schema.go): a durable queue per consumer
// group, like a RabbitMQ queue, rather than watermill's default offset per
// group. The default keeps one offset row per group locked (FOR UPDATE)
// while a message is handled, so a group handles one message at a time
// across all its workers, and its reads wait for every older transaction
// in the cluster (pg_snapshot_xmin), which a handler running for minutes
// (a saga booting an amphora) would hold open. Here each (message, group)
// is a row: workers take different rows with FOR UPDATE SKIP LOCKED, keep
// the row locked while handling (a dead worker's transaction ends and
// the row is free again), and delete it on ack.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Config of the transport.
type Config struct {
	DSN             string
	Concurrency     int           // rows one subscriber holds at once (its pool has as many connections, plus one)
	PollInterval    time.Duration // an idle subscriber's wait between queries
	RedeliveryDelay time.Duration // a nacked message is resent after this
	MaxHandlingTime time.Duration // a row held longer is released (its handler's context cancelled)
}

// Transport publishes through a small pool; each subscriber has its own.
type Transport struct {
	cfg  Config
	log  watermill.LoggerAdapter
	pool *pgxpool.Pool
	pub  *wmsql.Publisher

	mu    sync.Mutex
	ready map[string]bool // topics whose tables exist
}

// Open connects to PostgreSQL.
func Open(ctx context.Context, cfg Config, log watermill.LoggerAdapter) (*Transport, error) {
	if cfg.DSN == "" || cfg.Concurrency <= 0 || cfg.PollInterval <= 0 || cfg.RedeliveryDelay <= 0 || cfg.MaxHandlingTime <= 0 {
		return nil, errors.New("postgres bus: dsn, concurrency and positive durations required")
	}
	if log == nil {
		log = watermill.NopLogger{}
	}
	pool, err := newPool(ctx, cfg.DSN, 4)
	if err != nil {
		return nil, err
	}
	pub, err := wmsql.NewPublisher(wmsql.BeginnerFromPgx(pool), wmsql.PublisherConfig{SchemaAdapter: schema{}}, log)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres bus: publisher: %w", err)
	}
	return &Transport{cfg: cfg, log: log, pool: pool, pub: pub, ready: map[string]bool{}}, nil
}

func newPool(ctx context.Context, dsn string, maxConns int32) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres bus: dsn: %w", err)
	}
	pc.MaxConns = maxConns
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		return nil, fmt.Errorf("postgres bus: connect: %w", err)
	}
	return pool, nil
}

// Publisher inserts a row per registered group of the topic.
func (t *Transport) Publisher() message.Publisher { return publisher{t} }

type publisher struct{ t *Transport }

func (p publisher) Publish(topic string, msgs ...*message.Message) error {
	ctx := context.Background()
	if len(msgs) > 0 {
		ctx = msgs[0].Context()
	}
	if err := p.t.ensureTables(ctx, topic); err != nil {
		return err
	}
	if err := p.t.pub.Publish(topic, msgs...); err != nil {
		return fmt.Errorf("postgres bus: publish on %s: %w", topic, err)
	}
	return nil
}

func (p publisher) Close() error { return nil } // the transport owns it

func (t *Transport) ensureTables(ctx context.Context, topic string) error {
	t.mu.Lock()
	ok := t.ready[topic]
	t.mu.Unlock()
	if ok {
		return nil
	}
	tx, err := t.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres bus: tables of %s: %w", topic, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	for _, q := range schemaQueries(topic) {
		if _, err := tx.Exec(ctx, q.Query, q.Args...); err != nil {
			return fmt.Errorf("postgres bus: tables of %s: %w", topic, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres bus: tables of %s: %w", topic, err)
	}
	t.mu.Lock()
	t.ready[topic] = true
	t.mu.Unlock()
	return nil
}

// Declare creates topic's tables and registers group: from now on every
// message published on topic is kept for group until one of its
// subscribers acks it.
func (t *Transport) Declare(ctx context.Context, topic, group string) error {
	if err := t.ensureTables(ctx, topic); err != nil {
		return err
	}
	q := registerGroup(topic, group)
	if _, err := t.pool.Exec(ctx, q.Query, q.Args...); err != nil {
		return fmt.Errorf("postgres bus: register group %s on %s: %w", group, topic, err)
	}
	return nil
}

// Subscriber returns a subscriber in group, with a pool of its own.
func (t *Transport) Subscriber(group string) (message.Subscriber, error) {
	if group == "" {
		return nil, errors.New("postgres bus: consumer group required")
	}
	return &subscriber{t: t, group: group}, nil
}

type subscriber struct {
	t     *Transport
	group string

	mu     sync.Mutex
	pool   *pgxpool.Pool
	sub    *wmsql.Subscriber
	closed bool
}

func (s *subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if err := s.t.Declare(ctx, topic, s.group); err != nil {
		return nil, err
	}
	sub, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	out, err := sub.Subscribe(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("postgres bus: subscribe %s in %s: %w", topic, s.group, err)
	}
	return out, nil
}

// open creates the watermill subscriber on first use: its pool is sized
// for the Concurrency rows held at once.
func (s *subscriber) open(ctx context.Context) (*wmsql.Subscriber, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("postgres bus: subscriber closed")
	}
	if s.sub != nil {
		return s.sub, nil
	}
	pool, err := newPool(ctx, s.t.cfg.DSN, int32(s.t.cfg.Concurrency+1))
	if err != nil {
		return nil, err
	}
	deadline := s.t.cfg.MaxHandlingTime
	sub, err := wmsql.NewSubscriber(wmsql.BeginnerFromPgx(pool), wmsql.SubscriberConfig{
		ConsumerGroup:  s.group,
		AckDeadline:    &deadline,
		PollInterval:   s.t.cfg.PollInterval,
		ResendInterval: s.t.cfg.RedeliveryDelay,
		RetryInterval:  time.Second,
		SchemaAdapter:  schema{},
		OffsetsAdapter: offsets{},
	}, s.t.log)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres bus: subscriber: %w", err)
	}
	s.pool, s.sub = pool, sub
	return sub, nil
}

func (s *subscriber) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.sub == nil {
		return nil
	}
	err := s.sub.Close()
	s.pool.Close()
	return err
}

// Close closes the publisher's pool.
func (t *Transport) Close() error {
	err := t.pub.Close()
	t.pool.Close()
	return err
}
