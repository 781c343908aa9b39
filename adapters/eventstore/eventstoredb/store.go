// Package eventstoredb is the event store on EventStoreDB (KurrentDB),
// through its gRPC client (EventStore-Client-Go/v4).
//
// Each of our streams is an EventStoreDB stream of the same name (after an
// optional namespace), so appends get the server's optimistic concurrency:
// version v is revision v-1, ExpectNoStream is NoStream, ExpectAny is Any,
// and a lost race is eventstore.ErrConcurrency. ReadAll, Subscribe and Head
// read $all with a server-side filter on the store's stream prefix
// (events.StreamPrefix unless WithStreamPrefix says otherwise).
//
// Positions are not gap-free here: an event's Position is its $all commit
// position, an offset in the server's transaction log, strictly increasing
// in commit order but with gaps (see position.go and
// docs/eventstore-eventstoredb.md). Consumers may rely on order and on
// "after a position they were given", not on arithmetic; the conformance
// suite runs without Features.GapFreePositions.
package eventstoredb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/events"
)

var _ eventstore.Store = (*Store)(nil)

const (
	streamPage    = 512 // events per stream read
	headFirstPage = 16  // $all events read back from the end for Head, then…
	headPage      = 512 // …per further page
	retryMin      = 100 * time.Millisecond
	retryMax      = 5 * time.Second
)

// Option tunes Open.
type Option func(*options)

type options struct {
	names  naming
	logger *slog.Logger
}

// WithNamespace prefixes every stream name on the server with ns (and
// strips it on read), so several stores (deployments, throwaway test
// stores) can share one server. Default: none.
func WithNamespace(ns string) Option {
	return func(o *options) { o.names.namespace = ns }
}

// WithStreamPrefix sets the prefix every stream of the store starts with
// (default events.StreamPrefix). $all is read filtered on it, and Append
// refuses other streams, whose events no reader of $all would see. An empty
// prefix takes every non-system stream (of the namespace).
func WithStreamPrefix(prefix string) Option {
	return func(o *options) { o.names.prefix = prefix }
}

// WithLogger sets where the store and the EventStoreDB client log
// (resubscriptions, client replacements). Default slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// Store is an eventstore.Store on EventStoreDB.
type Store struct {
	names naming
	log   *slog.Logger
	// dial makes a new client; the EventStoreDB client stops for good once a
	// discovery fails (every call then says the connection is closed), so
	// the store replaces it (see failed).
	dial func() (client, error)

	mu     sync.Mutex
	c      client
	closed bool

	head headCache

	streamPage, headFirstPage, headPage uint64
	retryMin, retryMax                  time.Duration
}

var errClosed = errors.New("eventstore/eventstoredb: store closed")

// Open connects to the server of connString (esdb://host:2113?tls=false,
// esdb+discover://… for a cluster; see EventStoreDB's connection strings)
// and checks it answers and lets the user read $all.
func Open(ctx context.Context, connString string, opts ...Option) (*Store, error) {
	cfg, err := esdb.ParseConnectionString(connString)
	if err != nil {
		// The parser's errors may quote the string, password included.
		return nil, errors.New("eventstore/eventstoredb: invalid connection string")
	}
	return OpenConfig(ctx, cfg, opts...)
}

// OpenConfig is Open with a client configuration (for settings a
// connection string cannot hold, such as a certificate pool). The store
// keeps its own copy; its Logger is replaced by the store's logger.
func OpenConfig(ctx context.Context, cfg *esdb.Configuration, opts ...Option) (*Store, error) {
	if cfg == nil {
		return nil, errors.New("eventstore/eventstoredb: no client configuration")
	}
	o := newOptions(opts)
	conf := *cfg
	conf.Logger = clientLogger(o.logger)
	dial := func() (client, error) {
		c, err := esdb.NewClient(&conf)
		if err != nil {
			return nil, fmt.Errorf("eventstore/eventstoredb: client: %w", err)
		}
		return grpcClient{c}, nil
	}
	s, err := newStore(dial, o)
	if err != nil {
		return nil, err
	}
	if err := s.ping(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

func newOptions(opts []Option) options {
	o := options{names: naming{prefix: events.StreamPrefix}, logger: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// newStore makes a store on the clients dial makes (tests give a fake).
func newStore(dial func() (client, error), o options) (*Store, error) {
	if err := o.names.validate(); err != nil {
		return nil, err
	}
	c, err := dial()
	if err != nil {
		return nil, err
	}
	return &Store{
		names: o.names, log: o.logger, dial: dial, c: c,
		streamPage: streamPage, headFirstPage: headFirstPage, headPage: headPage,
		retryMin: retryMin, retryMax: retryMax,
	}, nil
}

// ping reads the last event of $all: the server answers and the user may
// read $all (by default only admins may).
func (s *Store) ping(ctx context.Context) error {
	c, err := s.conn()
	if err != nil {
		return err
	}
	_, err = callCtx(ctx, func() ([]*esdb.RecordedEvent, error) {
		return c.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	}, nil)
	return mapError(ctx, "connect: read $all", err)
}

// Namespace returns the namespace the store's streams live in on the server.
func (s *Store) Namespace() string { return s.names.namespace }

// conn returns the current client.
func (s *Store) conn() (client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	return s.c, nil
}

// failed is told of every error of client c: if c has given up (it stops
// for good after a failed discovery), it is replaced so the next call
// dials afresh.
func (s *Store) failed(c client, err error) {
	if !connectionClosed(err) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.c != c {
		return // closed by us, or already replaced
	}
	nc, derr := s.dial()
	if derr != nil {
		s.log.Warn("eventstoredb: cannot replace the closed client", "err", derr)
		return
	}
	_ = c.Close()
	s.c = nc
	s.log.Warn("eventstoredb: the client had stopped (failed discovery); replaced it", "err", err)
}

// Close releases the client. Subscriptions still running end with an error.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.c.Close()
}

// callCtx runs f and returns its result, or ctx's error as soon as ctx
// ends: the client ignores the context while it (re)discovers the server,
// which can take MaxDiscoverAttempts × GossipTimeout. A result that comes
// after that is passed to discard (if any) to release it.
func callCtx[T any](ctx context.Context, f func() (T, error), discard func(T)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		go func() {
			if r := <-done; r.err == nil && discard != nil {
				discard(r.v)
			}
		}()
		var zero T
		return zero, ctx.Err()
	}
}

// clientLogger sends the client's log lines to l. The client logs as
// errors what is routine here (a subscription dropped on cancel), so its
// errors and warnings come out at Info, the rest at Debug.
func clientLogger(l *slog.Logger) esdb.LoggingFunc {
	return func(level esdb.LogLevel, format string, args ...any) {
		lvl := slog.LevelDebug
		if level == esdb.LogWarn || level == esdb.LogError {
			lvl = slog.LevelInfo
		}
		if !l.Enabled(context.Background(), lvl) {
			return
		}
		l.Log(context.Background(), lvl, "eventstoredb client: "+fmt.Sprintf(format, args...))
	}
}
