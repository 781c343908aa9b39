package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"
	"os"
	"path/filepath"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // registers driver "sqlite"
)

// checkpointName is the projector's row in the checkpoint table. Never
// rename it: a new name replays the whole store.
const checkpointName = "read_model"

const (
	busyTimeoutMS = 5000
	readConns     = 4
)

// ReadModel is what the API reads: one row per visible object holding its
// rendered view, the projector's checkpoint, and statistics. It lives in a
// SQLite file of its process (Open) or in a PostgreSQL schema shared by
// every process of a scaled deployment (OpenPostgres). All methods are
// safe for concurrent use.
type ReadModel struct {
	d     *dialect
	write db // SQLite: exactly one connection (the projector and stats writers); PostgreSQL: the pool
	read  db
	// sink writes the current generation of every projection (on write);
	// only the projector's loop uses it after Open.
	sink sink
	gens generations // what sink's statements target

	mu       sync.Mutex
	position int64         // checkpoint as last seen committed
	changed  chan struct{} // closed (and replaced) at each advance

	stop      func() // ends background work (PostgreSQL's checkpoint follower)
	closeOnce sync.Once
	closeErr  error
	closers   []func() error // after the statements, in order
}

// Open opens (creating it and its directory if needed) the SQLite read
// model at path.
func Open(ctx context.Context, path string) (*ReadModel, error) {
	if path == "" {
		return nil, errors.New("projections: empty path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("projections: create directory: %w", err)
		}
	}
	write, err := openDB(path, "&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	read, err := openDB(path, "&_pragma=query_only(1)")
	if err != nil {
		_ = write.Close()
		return nil, err
	}
	read.SetMaxOpenConns(readConns)
	read.SetMaxIdleConns(readConns)
	return open(ctx, sqliteDialect, write, read, []func() error{read.Close, write.Close})
}

// open migrates the schema and prepares the read model over its
// connections; closers release them (called on failure too).
func open(ctx context.Context, d *dialect, write, read *sql.DB, closers []func() error) (*ReadModel, error) {
	rm := &ReadModel{d: d, write: db{write, d}, read: db{read, d}, changed: make(chan struct{}),
		sink: sink{db: db{write, d}, seed: maphash.MakeSeed()}, closers: closers, stop: func() {}}
	fail := func(err error) (*ReadModel, error) {
		_ = rm.Close()
		return nil, err
	}
	if err := migrate(ctx, rm.write); err != nil {
		return fail(err)
	}
	if err := rm.prepareSink(ctx); err != nil {
		return fail(err)
	}
	pos, err := readCheckpoint(ctx, rm.write)
	if err != nil {
		return fail(err)
	}
	rm.position = pos
	return rm, nil
}

func openDB(path, extra string) (*sql.DB, error) {
	dsn := "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path) +
		fmt.Sprintf("?_pragma=busy_timeout(%d)", busyTimeoutMS) +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" + extra
	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("projections: open %s: %w", path, err)
	}
	return sqldb, nil
}

// Close releases the connections. Stop the projector first.
func (rm *ReadModel) Close() error {
	rm.closeOnce.Do(func() {
		rm.stop()
		errs := []error{rm.sink.stmts.close()}
		for _, c := range rm.closers {
			errs = append(errs, c())
		}
		rm.closeErr = errors.Join(errs...)
	})
	return rm.closeErr
}

// Checkpoint is the global position of the last event the read model
// reflects, as this process last saw it committed (on PostgreSQL another
// process's projector may have committed further: the follower catches up
// within PostgresConfig.PollInterval, at once when notified).
func (rm *ReadModel) Checkpoint(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	rm.mu.Lock()
	defer rm.mu.Unlock()
	return rm.position, nil
}

// WaitFor returns once the read model reflects position (read-your-writes
// for a GET after a command), or ctx.Err() when ctx ends first. It is woken
// by the projector's commits, never polls.
func (rm *ReadModel) WaitFor(ctx context.Context, position int64) error {
	for {
		rm.mu.Lock()
		reached, changed := rm.position >= position, rm.changed
		rm.mu.Unlock()
		if reached {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// advance records a committed checkpoint and wakes every waiter.
func (rm *ReadModel) advance(position int64) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if position <= rm.position {
		return
	}
	rm.position = position
	close(rm.changed)
	rm.changed = make(chan struct{})
}

// errGenerationChanged: a replay switched generations since the sink's
// statements were prepared.
var errGenerationChanged = errors.New("projections: generation changed")

// prepareSink reads the current generations and prepares the sink's
// statements for their tables.
func (rm *ReadModel) prepareSink(ctx context.Context) error {
	gens, err := readGenerations(ctx, rm.write)
	if err != nil {
		return err
	}
	if err := rm.sink.stmts.close(); err != nil {
		return fmt.Errorf("projections: close statements: %w", err)
	}
	if err := rm.sink.stmts.prepare(ctx, rm.write, targetsOf(gens)); err != nil {
		_ = rm.sink.stmts.close()
		return err
	}
	rm.mu.Lock()
	rm.gens = gens
	rm.mu.Unlock()
	return nil
}

// generations returns what the sink writes.
func (rm *ReadModel) generations() generations {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	return rm.gens
}

// beginWrite starts a write transaction of the current generations, or
// returns errGenerationChanged when a replay switched them since the
// statements were prepared (the write lock, taken by BEGIN IMMEDIATE on
// SQLite, FOR UPDATE on PostgreSQL, keeps them from switching until this
// transaction ends).
func (rm *ReadModel) beginWrite(ctx context.Context) (*writeTx, error) {
	w, err := rm.sink.begin(ctx)
	if err != nil {
		return nil, err
	}
	gens, err := lockGenerations(ctx, w.tx)
	if err != nil {
		w.rollback()
		return nil, err
	}
	if gens != rm.generations() {
		w.rollback()
		return nil, errGenerationChanged
	}
	return w, nil
}

// switchGeneration follows a replay's switch: statements for the new
// tables, and the checkpoint as the replay left it (returned).
func (rm *ReadModel) switchGeneration(ctx context.Context) (int64, error) {
	if err := rm.prepareSink(ctx); err != nil {
		return 0, err
	}
	pos, err := readCheckpoint(ctx, rm.write)
	if err != nil {
		return 0, err
	}
	rm.advance(pos)
	return pos, nil
}

// storedCheckpoint reads the committed checkpoint (which another process's
// projector may have moved) and advances to it.
func (rm *ReadModel) storedCheckpoint(ctx context.Context) (int64, error) {
	pos, err := readCheckpoint(ctx, rm.read)
	if err != nil {
		return 0, err
	}
	rm.advance(pos)
	return pos, nil
}

func readCheckpoint(ctx context.Context, db execer) (int64, error) {
	return queryCheckpoint(ctx, db, "")
}

func queryCheckpoint(ctx context.Context, db execer, lock string) (int64, error) {
	var pos int64
	err := db.QueryRowContext(ctx, `SELECT position FROM checkpoint WHERE name = ?`+lock, checkpointName).Scan(&pos)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("projections: read checkpoint: %w", err)
	}
	return pos, nil
}
