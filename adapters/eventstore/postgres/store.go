// Package postgres is the event store for scaled deployments: PostgreSQL
// through pgx/v5 (pgxpool), shared by any number of processes.
//
// Positions are gap-free and assigned in commit order: every append runs as
// one call of the append_group function (migrations/0003), which takes the
// row lock of a one-row counter table before it inserts, so appenders queue on
// that lock and a reader never sees a higher position before a lower one. See
// docs/eventstore-postgres.md for why this technique and what it costs.
//
// Followers catch up with ReadAll in batches, then wait on LISTEN/NOTIFY (the
// append transaction calls pg_notify, delivered after commit), with a poll as
// the fallback for a lost listener connection.
//
// The schema (default "eventstore") is created and migrated by Migrate, never
// implicitly by Open unless WithMigrate is given.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
)

var _ eventstore.Store = (*Store)(nil)

const (
	// DefaultSchema holds the store's tables unless WithSchema says otherwise.
	DefaultSchema       = "eventstore"
	defaultPollInterval = 500 * time.Millisecond
	subscribeBatch      = 512
	maxIdentifierLen    = 63 // PostgreSQL's NAMEDATALEN - 1
)

// Option tunes Open.
type Option func(*options)

type options struct {
	schema       string
	migrate      bool
	pollInterval time.Duration
	maxConns     int32
	logger       *slog.Logger
}

// WithSchema puts the store's tables in schema (default "eventstore"), so
// several stores (or throwaway test stores) can share one database.
func WithSchema(schema string) Option {
	return func(o *options) { o.schema = schema }
}

// WithMigrate makes Open run Migrate before it returns.
func WithMigrate() Option {
	return func(o *options) { o.migrate = true }
}

// WithPollInterval sets how often an idle subscriber reads even without a
// notification (default 500 ms): the fallback for a listener connection that
// is down or reconnecting.
func WithPollInterval(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.pollInterval = d
		}
	}
}

// WithMaxConns caps the connection pool (default: the DSN's pool_max_conns,
// else pgxpool's default of max(4, GOMAXPROCS)). The LISTEN connection of
// subscribers comes on top.
func WithMaxConns(n int32) Option {
	return func(o *options) {
		if n > 0 {
			o.maxConns = n
		}
	}
}

// WithLogger sets where the store logs (migrations applied, listener
// reconnects). Default slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// Store is an eventstore.Store on PostgreSQL.
type Store struct {
	pool    *pgxpool.Pool
	schema  string
	channel string // NOTIFY channel of this schema's appends
	writer  *writer
	poll    time.Duration
	log     *slog.Logger

	wake   *broadcast
	listen *listener

	closeOnce sync.Once
}

// Open connects to the database at dsn (a postgres:// URL or key=value
// string, as pgx accepts) and checks it answers. It does not create or
// migrate the schema unless WithMigrate is given; until Migrate ran, the
// store's methods fail with an error wrapping ErrNotMigrated.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	o := options{schema: DefaultSchema, pollInterval: defaultPollInterval, logger: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	if err := validSchema(o.schema); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors may quote the DSN, password included: don't wrap.
		return nil, errors.New("eventstore/postgres: invalid DSN")
	}
	if o.maxConns > 0 {
		cfg.MaxConns = o.maxConns
	}
	// Unqualified names in our SQL (and in append_group) resolve in our
	// schema only. Appends rely on READ COMMITTED's per-statement snapshots
	// (migrations/0003), whatever the server's default isolation is.
	cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{o.schema}.Sanitize()
	cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = "read committed"

	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("eventstore/postgres: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("eventstore/postgres: connect to %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	s := &Store{
		pool:    pool,
		schema:  o.schema,
		channel: notifyChannel(o.schema),
		poll:    o.pollInterval,
		log:     o.logger,
		wake:    newBroadcast(),
	}
	s.listen = newListener(cfg.ConnConfig, s.channel, s.wake, o.logger)
	// Local subscribers need not wait for the NOTIFY round trip.
	s.writer = newWriter(pool, appendFunction, s.channel, s.wake.notify)
	if o.migrate {
		if err := s.Migrate(ctx); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	return s, nil
}

func validSchema(schema string) error {
	switch {
	case schema == "":
		return errors.New("eventstore/postgres: empty schema name")
	case len(schema) > maxIdentifierLen:
		return fmt.Errorf("eventstore/postgres: schema name %.20q… longer than %d bytes", schema, maxIdentifierLen)
	case strings.ContainsRune(schema, 0):
		return errors.New("eventstore/postgres: schema name contains NUL")
	}
	return nil
}

// notifyChannel names the schema's NOTIFY channel; channel names are
// identifiers (at most 63 bytes), so a long schema name is hashed.
func notifyChannel(schema string) string {
	if c := schema + ".events"; len(c) <= maxIdentifierLen {
		return c
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(schema))
	return fmt.Sprintf("octavia_es_events_%016x", h.Sum64())
}

// Schema returns the schema the store's tables live in.
func (s *Store) Schema() string { return s.schema }

// Head returns the highest committed position (0 when empty): the counter,
// which moves in the same transactions as the events.
func (s *Store) Head(ctx context.Context) (int64, error) {
	var head int64
	if err := s.pool.QueryRow(ctx, `SELECT last FROM positions`).Scan(&head); err != nil {
		return 0, fmt.Errorf("eventstore/postgres: head: %w", wrapSchemaErr(err))
	}
	return head, nil
}

// Close stops the listener and closes the pool, waiting for connections in
// use to be released: cancel running subscriptions first.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.writer.close()
		s.listen.stop()
		s.pool.Close()
		s.wake.notify() // idle subscribers re-read and see the closed pool
	})
	return nil
}

// wrapSchemaErr marks errors that mean "this schema lacks our objects".
func wrapSchemaErr(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "42P01", "42883", "3F000": // undefined table, undefined function, invalid schema
			return fmt.Errorf("%w: %w", ErrNotMigrated, err)
		}
	}
	return err
}
