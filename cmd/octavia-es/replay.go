package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/projections"
)

const replayUsage = `usage: octavia-es replay [--projection NAME]... [--data-dir DIR | --config FILE] [--read-model FILE]

Rebuilds read models from the event store into new tables, then switches the
API to them in one transaction and drops the old ones. Run it with the server
stopped or running: the API serves the old tables until the switch, and the
server's projector continues on the new ones (docs/replay.md).

The read model is <data_dir>/readmodel.db (serve's); the split processes
(api, worker, health-manager) on SQLite each have their own,
readmodel-<command>.db: name it with --read-model. With --config naming a
PostgreSQL read model (read_model.driver, docs/deploy.md), the shared schema
is rebuilt from the PostgreSQL event store instead.

Projections (default: all of them):
  loadbalancers   load balancers, listeners, pools, members, health monitors
  amphorae        the amphorae of the admin API
  status          the status trees
Statistics are not events: they are kept as they are, never rebuilt.

A progress bar on a terminal, a line every 2 s otherwise (stderr); the
summary on stdout. Interrupted (SIGINT), it drops what it built and leaves the
read model as it was.

flags:
`

// replayCommand is `octavia-es replay`.
func replayCommand(ctx context.Context, args, env []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, replayUsage)
		fs.PrintDefaults()
	}
	var names projectionList
	fs.Var(&names, "projection", "projection to rebuild: "+strings.Join(projections.Projections(), ", ")+
		" (repeat, or separate with commas; default all)")
	configPath := fs.String("config", "", "configuration file naming data_dir")
	dataDir := fs.String("data-dir", "", "data directory holding events.db and readmodel.db (overrides the configuration)")
	readModel := fs.String("read-model", "", "read model file (default <data_dir>/readmodel.db)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	for _, n := range names {
		if !slices.Contains(projections.Projections(), n) {
			fmt.Fprintf(stderr, "octavia-es replay: unknown projection %q (known: %s)\n", n, strings.Join(projections.Projections(), ", "))
			return 2
		}
	}
	progress := newReplayProgress(stderr)
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opt := projections.ReplayOptions{
		Projections: names,
		Progress:    func(p projections.ReplayProgress) { progress.report(time.Now(), p) },
		Log:         log,
	}
	var res projections.ReplayResult
	var err error
	if cfg, ok := postgresReadModel(*configPath, *dataDir, env); ok {
		store, oerr := openStore(ctx, cfg, log)
		if oerr != nil {
			fmt.Fprintf(stderr, "octavia-es replay: %v\n", oerr)
			return 2
		}
		defer store.Close()
		dsn, schema := cfg.readModelPostgres()
		res, err = projections.ReplayPostgres(ctx, projections.PostgresConfig{DSN: dsn, Schema: schema, Log: log}, store, events.NewRegistry(), opt)
	} else {
		store, dir, code := openDataDir(ctx, "octavia-es replay", *configPath, *dataDir, env, stderr)
		if store == nil {
			return code
		}
		defer store.Close()
		path := *readModel
		if path == "" {
			path = filepath.Join(dir, "readmodel.db")
		}
		res, err = projections.Replay(ctx, path, store, events.NewRegistry(), opt)
	}
	progress.finish()
	switch {
	case errors.Is(err, projections.ErrReplayRunning):
		fmt.Fprintln(stderr, "octavia-es replay: another replay of this read model is running; nothing changed")
		return 1
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "octavia-es replay: interrupted; the read model is as it was")
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "octavia-es replay: %v\nthe read model is as it was\n", err)
		return 1
	}
	rate := float64(res.Events) / max(res.Elapsed.Seconds(), 1e-9)
	gens := make([]string, 0, len(res.Projections))
	for _, n := range res.Projections {
		gens = append(gens, fmt.Sprintf("%s=%d", n, res.Generations[n]))
	}
	fmt.Fprintf(stdout, "replayed %s: %s events in %s (%s events/s); now at position %s; generations %s\n",
		strings.Join(res.Projections, ", "), thousands(res.Events), res.Elapsed.Round(time.Millisecond),
		thousands(int64(rate)), thousands(res.Position), strings.Join(gens, " "))
	return 0
}

// projectionList is a repeatable, comma-separated flag.
type projectionList []string

func (l *projectionList) String() string { return strings.Join(*l, ",") }

func (l *projectionList) Set(v string) error {
	for _, n := range strings.Split(v, ",") {
		if n = strings.TrimSpace(n); n != "" && !slices.Contains(*l, n) {
			*l = append(*l, n)
		}
	}
	return nil
}

// postgresReadModel returns the configuration when it names a PostgreSQL
// read model (and no --data-dir overrides it).
func postgresReadModel(configPath, dataDir string, env []string) (Config, bool) {
	if dataDir != "" {
		return Config{}, false
	}
	cfg, err := loadConfig(configPath, env)
	if err != nil || cfg.readModelKind() != readModelPostgres {
		return Config{}, false // openDataDir reports a bad configuration
	}
	return cfg, true
}
