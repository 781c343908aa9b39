package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/octavia-es/octavia-es/adapters/eventstore/postgres"
	"github.com/octavia-es/octavia-es/adapters/eventstore/sqlite"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/projections"
	"github.com/octavia-es/octavia-es/projections/history/historytest"
)

// defaultPostgresDSN is the machine's PostgreSQL (as the store's tests);
// OCTAVIA_ES_BENCH_POSTGRES overrides it.
const defaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// ReplayRun is the replay figure on one event store: the store is filled
// with generated histories, scanned once (the baseline), then replayed into
// a fresh SQLite read model.
type ReplayRun struct {
	Store         string  `json:"store"`
	Skipped       string  `json:"skipped,omitempty"`
	Error         string  `json:"error,omitempty"`
	Events        int64   `json:"events"`
	LoadBalancers int     `json:"load_balancers"`
	Writers       int     `json:"writers"` // concurrent appenders while generating
	GenerateSec   float64 `json:"generate_s"`
	ScanSec       float64 `json:"scan_s"`
	ReplaySec     float64 `json:"replay_s"`
}

// Rate is events per second over secs.
func (r ReplayRun) Rate(secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return float64(r.Events) / secs
}

// replayStore is the event store of one run.
type replayStore interface {
	historytest.Appender
	projections.ReplaySource
	Close() error
}

// RunReplay measures replay on SQLite, then on PostgreSQL when it answers.
func RunReplay(ctx context.Context, n int, log *slog.Logger) []ReplayRun {
	runs := []ReplayRun{replaySQLite(ctx, n, log)}
	if ctx.Err() == nil {
		runs = append(runs, replayPostgres(ctx, n, log))
	}
	return runs
}

func replaySQLite(ctx context.Context, n int, log *slog.Logger) ReplayRun {
	run := ReplayRun{Store: "SQLite", Writers: 2}
	dir, err := os.MkdirTemp("", "octavia-es-replay-")
	if err != nil {
		run.Error = err.Error()
		return run
	}
	defer os.RemoveAll(dir)
	store, err := sqlite.Open(ctx, filepath.Join(dir, "events.db"))
	if err != nil {
		run.Error = err.Error()
		return run
	}
	defer store.Close()
	measureReplay(ctx, store, filepath.Join(dir, "readmodel.db"), n, &run, log)
	return run
}

func replayPostgres(ctx context.Context, n int, log *slog.Logger) ReplayRun {
	run := ReplayRun{Store: "PostgreSQL", Writers: 8}
	dsn := os.Getenv("OCTAVIA_ES_BENCH_POSTGRES")
	if dsn == "" {
		dsn = defaultPostgresDSN
	}
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	conn, err := pgx.Connect(pctx, dsn)
	cancel()
	if err != nil {
		run.Skipped = fmt.Sprintf("no PostgreSQL at %s (set OCTAVIA_ES_BENCH_POSTGRES): %v", redactDSN(dsn), err)
		return run
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "bench_replay_" + hex.EncodeToString(b)
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, err := conn.Exec(dctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			log.Warn("drop the replay benchmark's schema", "schema", schema, "err", err)
		}
		_ = conn.Close(dctx)
	}()
	store, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema), postgres.WithMigrate(), postgres.WithMaxConns(16),
		postgres.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		run.Error = err.Error()
		return run
	}
	defer store.Close()
	dir, err := os.MkdirTemp("", "octavia-es-replay-")
	if err != nil {
		run.Error = err.Error()
		return run
	}
	defer os.RemoveAll(dir)
	measureReplay(ctx, store, filepath.Join(dir, "readmodel.db"), n, &run, log)
	return run
}

// measureReplay generates n events into store, scans them, replays them.
func measureReplay(ctx context.Context, store replayStore, readModel string, n int, run *ReplayRun, log *slog.Logger) {
	log.Info("replay: generating events", "store", run.Store, "events", n)
	start := time.Now()
	gen, err := historytest.Generate(ctx, store, historytest.GenerateOptions{Events: n, Seed: 1, Writers: run.Writers})
	run.GenerateSec = time.Since(start).Seconds()
	run.Events, run.LoadBalancers = gen.Events, gen.LoadBalancers
	if err != nil {
		run.Error = "generate: " + err.Error()
		return
	}

	start = time.Now()
	var scanned int64
	for pos := int64(0); ; {
		page, err := store.ReadAll(ctx, pos, 2048) // the page size of the replay's reads
		if err != nil {
			run.Error = "scan: " + err.Error()
			return
		}
		if len(page) == 0 {
			break
		}
		scanned += int64(len(page))
		pos = page[len(page)-1].Position
	}
	run.ScanSec = time.Since(start).Seconds()
	if scanned != run.Events {
		run.Error = fmt.Sprintf("scan read %d events of %d", scanned, run.Events)
		return
	}

	log.Info("replay: replaying", "store", run.Store, "events", run.Events)
	start = time.Now()
	res, err := projections.Replay(ctx, readModel, store, events.NewRegistry(), projections.ReplayOptions{})
	run.ReplaySec = time.Since(start).Seconds()
	if err != nil {
		run.Error = "replay: " + err.Error()
		return
	}
	if res.Events != run.Events || res.Position != run.Events {
		run.Error = fmt.Sprintf("replay read %d events up to %d, want %d", res.Events, res.Position, run.Events)
	}
}

// redactDSN hides a password in a DSN for the report.
func redactDSN(dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}
