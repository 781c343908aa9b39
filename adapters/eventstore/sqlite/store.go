// Package sqlite is the embedded event store: one SQLite file (pure Go
// driver modernc.org/sqlite, no cgo) holding the events table and the
// subscribers' checkpoints.
//
// Durability: the file runs in WAL mode with synchronous=NORMAL. A commit
// survives a crash or SIGKILL of the process; a power loss or OS crash may
// lose the last transactions committed before it (never corrupts the file).
//
// Writes go through one connection and are serialised in-process as well, so
// positions are assigned gap-free in commit order. Reads use a separate pool.
// Several processes may open the same file: appends then serialise on
// SQLite's write lock (BEGIN IMMEDIATE + busy_timeout), and subscribers see
// the other processes' appends through a short poll.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers driver "sqlite"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
)

var _ eventstore.Store = (*Store)(nil)

const (
	defaultPollInterval = 100 * time.Millisecond
	defaultBusyTimeout  = 5 * time.Second
	defaultReadConns    = 4
	subscribeBatch      = 512
)

// Option tunes Open.
type Option func(*options)

type options struct {
	pollInterval time.Duration
	busyTimeout  time.Duration
	readConns    int
}

// WithPollInterval sets how often an idle subscriber looks for appends made
// by another process on the same file (default 100 ms). In-process appends
// wake subscribers at once whatever this is.
func WithPollInterval(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.pollInterval = d
		}
	}
}

// WithBusyTimeout sets how long a statement waits for another connection's
// lock before failing with SQLITE_BUSY (default 5 s).
func WithBusyTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.busyTimeout = d
		}
	}
}

// WithReadConns sets the size of the read pool (default 4).
func WithReadConns(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.readConns = n
		}
	}
}

// Store is an eventstore.Store backed by one SQLite file.
type Store struct {
	write *sql.DB // exactly one connection
	read  *sql.DB
	stmts writeStmts

	appendMu sync.Mutex // serialises Append in-process
	wake     *broadcast
	poll     time.Duration

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed, with its parent directory) the event store
// file at path and brings its schema up to date.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{pollInterval: defaultPollInterval, busyTimeout: defaultBusyTimeout, readConns: defaultReadConns}
	for _, opt := range opts {
		opt(&o)
	}
	if path == "" {
		return nil, errors.New("eventstore/sqlite: empty path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("eventstore/sqlite: create directory: %w", err)
		}
	}

	write, err := openDB(path, o, "&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	s := &Store{write: write, wake: newBroadcast(), poll: o.pollInterval}
	if err := migrate(ctx, write); err != nil {
		_ = write.Close()
		return nil, err
	}
	if err := s.stmts.prepare(ctx, write); err != nil {
		_ = write.Close()
		return nil, err
	}

	read, err := openDB(path, o, "&_pragma=query_only(1)")
	if err != nil {
		_ = s.stmts.close()
		_ = write.Close()
		return nil, err
	}
	read.SetMaxOpenConns(o.readConns)
	read.SetMaxIdleConns(o.readConns)
	s.read = read
	return s, nil
}

// openDB opens a pool on path with the pragmas every connection needs.
func openDB(path string, o options, extra string) (*sql.DB, error) {
	dsn := "file:" + escapeURIPath(path) +
		fmt.Sprintf("?_pragma=busy_timeout(%d)", o.busyTimeout.Milliseconds()) +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" + extra
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("eventstore/sqlite: open %s: %w", path, err)
	}
	return db, nil
}

// escapeURIPath escapes the characters a "file:" URI gives a meaning to, so
// any file name opens as itself.
func escapeURIPath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// Head returns the highest committed position (0 when empty).
func (s *Store) Head(ctx context.Context) (int64, error) {
	var head int64
	if err := s.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), 0) FROM events`).Scan(&head); err != nil {
		return 0, fmt.Errorf("eventstore/sqlite: head: %w", err)
	}
	return head, nil
}

// Close releases the connections. Running subscriptions end with an error
// on their next read; cancel them first.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.appendMu.Lock()
		defer s.appendMu.Unlock()
		s.closeErr = errors.Join(s.stmts.close(), s.read.Close(), s.write.Close())
		s.wake.notify() // wake idle subscribers so they notice
	})
	return s.closeErr
}
