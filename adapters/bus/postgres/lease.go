package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Lease is a PostgreSQL session advisory lock held on a connection of its
// own: whoever holds the lock holds the lease, for as long as the
// connection lives. PostgreSQL releases the lock when the session ends (a
// crashed process, a terminated backend, a broken network), so a dead
// holder never keeps it. The holder checks its connection every
// CheckInterval; a failed check (or a query that does not answer within
// CheckTimeout) means the lease is lost. Between the loss and the check
// another process may already hold the lock: the two overlap for up to
// CheckInterval+CheckTimeout, which the bus tolerates (at least once).
type Lease struct {
	dsn string
	key int64
	log *slog.Logger

	// RetryInterval: how often a waiting process tries the lock. Default 1 s.
	RetryInterval time.Duration
	// CheckInterval and CheckTimeout: how the holder watches its
	// connection. Defaults 1 s and 2 s.
	CheckInterval time.Duration
	CheckTimeout  time.Duration
}

// NewLease returns the lease called name (any string; every process that
// competes must use the same) on the database at dsn.
func NewLease(dsn, name string, log *slog.Logger) *Lease {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Lease{dsn: dsn, key: LeaseKey(name), log: log,
		RetryInterval: time.Second, CheckInterval: time.Second, CheckTimeout: 2 * time.Second}
}

// LeaseKey is the advisory lock key of a lease name.
func LeaseKey(name string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("octavia-es lease " + name))
	return int64(h.Sum64())
}

// Acquire blocks until this process holds the lease or ctx ends (an
// unreachable database is retried; an invalid DSN fails at once). lost is
// closed when the lease is lost (the connection failed); release gives
// it up (idempotent; call it after lost too).
func (l *Lease) Acquire(ctx context.Context) (<-chan struct{}, func(), error) {
	if l.RetryInterval <= 0 || l.CheckInterval <= 0 || l.CheckTimeout <= 0 {
		return nil, nil, errors.New("postgres lease: intervals must be positive")
	}
	cfg, err := pgx.ParseConfig(l.dsn)
	if err != nil {
		// pgx's parse errors may quote the DSN, password included.
		return nil, nil, errors.New("postgres lease: invalid DSN")
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = "octavia-es lease"
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			_ = conn.Close(context.WithoutCancel(ctx))
		}
	}()
	logged := false
	for {
		if conn == nil || conn.IsClosed() {
			var err error
			conn, err = l.connect(ctx, cfg)
			if err != nil && !logged {
				l.log.Warn("lease: cannot reach PostgreSQL; retrying", "error", err)
				logged = true
			}
		}
		if conn != nil && !conn.IsClosed() {
			got, err := l.try(ctx, conn)
			if err == nil && got {
				lost, release := l.hold(conn)
				conn = nil // hold owns it now
				return lost, release, nil
			}
			if err != nil && ctx.Err() == nil {
				l.log.Warn("lease: try failed; reconnecting", "error", err)
				_ = conn.Close(context.WithoutCancel(ctx))
				conn = nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(l.RetryInterval):
		}
	}
}

func (l *Lease) connect(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	cctx, cancel := context.WithTimeout(ctx, l.CheckTimeout+3*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg.Copy())
	if err != nil {
		return nil, fmt.Errorf("postgres lease: connect: %w", err)
	}
	return conn, nil
}

func (l *Lease) try(ctx context.Context, conn *pgx.Conn) (bool, error) {
	qctx, cancel := context.WithTimeout(ctx, l.CheckTimeout)
	defer cancel()
	var got bool
	if err := conn.QueryRow(qctx, `SELECT pg_try_advisory_lock($1)`, l.key).Scan(&got); err != nil {
		return false, fmt.Errorf("postgres lease: try lock: %w", err)
	}
	return got, nil
}

// hold watches conn until release or a failed check.
func (l *Lease) hold(conn *pgx.Conn) (<-chan struct{}, func()) {
	lost := make(chan struct{})
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { _ = conn.Close(context.Background()) }() // ends the session: PostgreSQL frees the lock
		t := time.NewTicker(l.CheckInterval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				ctx, cancel := context.WithTimeout(context.Background(), l.CheckTimeout)
				_, _ = conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, l.key)
				cancel()
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), l.CheckTimeout)
				err := conn.Ping(ctx)
				cancel()
				if err != nil {
					l.log.Warn("lease lost: its PostgreSQL connection failed", "error", err)
					close(lost)
					return
				}
			}
		}
	}()
	var once sync.Once
	release := func() {
		once.Do(func() { close(stop) })
		<-done
	}
	return lost, release
}
