package projections

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/octavia-es/octavia-es/events"
)

// PostgresConfig locates a read model in PostgreSQL: one schema shared by
// every process of a scaled deployment. One projector writes it at a time
// (the others' writes are fenced off, see Projector.Run); every process
// reads it and follows its checkpoint for read-your-writes.
type PostgresConfig struct {
	DSN    string
	Schema string // default "octavia_read_model"
	// MaxConns bounds the pool (default 8).
	MaxConns int32
	// PollInterval: how often the checkpoint is re-read when no
	// notification came (a lost LISTEN connection, one not yet up); default
	// 100ms: one indexed read, and the bound on a missed notification.
	PollInterval time.Duration
	Log          *slog.Logger
}

// DefaultPostgresSchema is the schema of PostgresConfig.Schema's default.
const DefaultPostgresSchema = "octavia_read_model"

// schemaName: a plain PostgreSQL identifier (at most 63 bytes), never
// needing quotes.
var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

func (c *PostgresConfig) setDefaults() error {
	if c.Schema == "" {
		c.Schema = DefaultPostgresSchema
	}
	if !schemaName.MatchString(c.Schema) {
		return fmt.Errorf("projections: PostgreSQL schema %q: want lower-case letters, digits and _, at most 63", c.Schema)
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 8
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 100 * time.Millisecond
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// openPool connects a pool whose connections work in cfg.Schema.
func openPool(ctx context.Context, cfg PostgresConfig) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("projections: PostgreSQL DSN: %w", err)
	}
	pc.MaxConns = cfg.MaxConns
	pc.ConnConfig.RuntimeParams["search_path"] = cfg.Schema
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("projections: connect to PostgreSQL: %w", err)
	}
	return pool, nil
}

// OpenPostgres opens the read model in cfg.Schema, creating or migrating
// its tables (idempotent; concurrent openers are serialised by an advisory
// lock), and follows its checkpoint until Close.
func OpenPostgres(ctx context.Context, cfg PostgresConfig) (*ReadModel, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	pool, err := openPool(ctx, cfg)
	if err != nil {
		return nil, err
	}
	sqldb := stdlib.OpenDBFromPool(pool)
	rm, err := open(ctx, newPostgresDialect(cfg.Schema), sqldb, sqldb,
		[]func() error{sqldb.Close, func() error { pool.Close(); return nil }})
	if err != nil {
		return nil, err
	}
	followCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		rm.follow(followCtx, pool.Config().ConnConfig, cfg.PollInterval, cfg.Log)
	}()
	rm.stop = func() { cancel(); <-done }
	return rm, nil
}

// follow keeps rm's position at the committed checkpoint, which any
// process's projector moves: woken by the projector's notifications, and
// polling meanwhile in case one is missed (a lost connection).
func (rm *ReadModel) follow(ctx context.Context, cc *pgx.ConnConfig, poll time.Duration, log *slog.Logger) {
	notified := make(chan int64, 1)
	go rm.listen(ctx, cc, notified, log)
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case pos := <-notified:
			rm.advance(pos)
		case <-tick.C:
			if _, err := rm.storedCheckpoint(ctx); err != nil && ctx.Err() == nil {
				log.Warn("projections: read the PostgreSQL read model's checkpoint", "err", err)
			}
		}
	}
}

// listen relays the checkpoint notifications, reconnecting until ctx ends.
func (rm *ReadModel) listen(ctx context.Context, cc *pgx.ConnConfig, out chan int64, log *slog.Logger) {
	for ctx.Err() == nil {
		err := rm.listenOnce(ctx, cc, out)
		if ctx.Err() != nil {
			return
		}
		log.Warn("projections: checkpoint notifications lost; polling until reconnected", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (rm *ReadModel) listenOnce(ctx context.Context, cc *pgx.ConnConfig, out chan int64) error {
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{rm.d.channel()}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait: %w", err)
		}
		pos, err := strconv.ParseInt(n.Payload, 10, 64)
		if err != nil {
			continue
		}
		select { // the latest wins: advance ignores older positions
		case out <- pos:
		default:
			select {
			case <-out:
			default:
			}
			out <- pos
		}
	}
}

// ReplayPostgres is Replay for the read model of cfg (docs/replay.md): the
// same generations, built beside the live tables and switched in one
// transaction, with a session advisory lock instead of a lock file.
func ReplayPostgres(ctx context.Context, cfg PostgresConfig, src ReplaySource, reg *events.Registry, opt ReplayOptions) (ReplayResult, error) {
	want, err := parseProjections(opt.Projections)
	if err != nil {
		return ReplayResult{}, err
	}
	opt.setDefaults()
	if err := cfg.setDefaults(); err != nil {
		return ReplayResult{}, err
	}
	pool, err := openPool(ctx, cfg)
	if err != nil {
		return ReplayResult{}, err
	}
	defer pool.Close()
	lock, err := pool.Acquire(ctx)
	if err != nil {
		return ReplayResult{}, fmt.Errorf("projections: replay lock: %w", err)
	}
	defer lock.Release()
	key := advisoryKey("replay", cfg.Schema)
	var got bool
	if err := lock.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
		return ReplayResult{}, fmt.Errorf("projections: replay lock: %w", err)
	}
	if !got {
		return ReplayResult{}, ErrReplayRunning
	}
	defer func() {
		unlockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := lock.Exec(unlockCtx, `SELECT pg_advisory_unlock($1)`, key); err != nil {
			_ = lock.Conn().Close(unlockCtx) // the lock ends with its session
		}
	}()
	sqldb := stdlib.OpenDBFromPool(pool)
	defer sqldb.Close()
	return replayOn(ctx, db{sqldb, newPostgresDialect(cfg.Schema)}, src, reg, want, opt)
}
