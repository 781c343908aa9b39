// Command loadgen is the octavia-es benchmark: it starts the binary on a
// free loopback port with a fresh data directory, drives the Octavia v2 API
// (GET / floor, create→ACTIVE, filling the store concurrently, lists at
// 1,000 and 10,000 load balancers), runs the event store's Go benchmark with
// its plain-INSERT baseline, and prints every figure beside a baseline from
// the same run. Nothing is asserted: speed on a shared 2-core machine varies.
// Every load loop is bounded in count and time; only 127.0.0.1 is targeted.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// fallbackSubnet is etc/octavia-es.yaml's default VIP subnet.
const fallbackSubnet = "a1f0c9d2-7b3e-4c55-9a1d-1e2f3a4b5c6d"

type options struct {
	bin, config, target, out, repo, project, subnet, benchtime                                 string
	postgresDSN, pgBenchtime                                                                   string
	lbs, workers, replayEvents                                                                 int
	skipAPI, skipGoBench, skipAmphorae, skipReplay, skipSSE, skipPostgres, skipLag, skipPGList bool
	skipPGAppends                                                                              bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.bin, "bin", "bin/octavia-es", "octavia-es binary to start")
	fs.StringVar(&o.config, "config", "etc/octavia-es.yaml", "configuration file for the server")
	fs.StringVar(&o.target, "url", "", "benchmark this already running server (http://127.0.0.1:PORT) instead of starting one")
	fs.StringVar(&o.out, "out", "bench/out", "directory for the JSON result, the table and the logs")
	fs.StringVar(&o.repo, "repo", ".", "module root, where go test runs the Go benchmarks")
	fs.StringVar(&o.project, "project", "bench", "X-Project-Id of every request")
	fs.StringVar(&o.subnet, "subnet", "", "VIP subnet id (default: the first subnet of -config)")
	fs.StringVar(&o.benchtime, "benchtime", "2s", "go test -benchtime for the event store benchmarks")
	fs.IntVar(&o.lbs, "lbs", 10000, "load balancers in the store for the largest list figures")
	fs.IntVar(&o.workers, "workers", 8, "concurrent clients for creates and concurrent figures")
	fs.BoolVar(&o.skipAPI, "skip-api", false, "skip the API benchmarks")
	fs.BoolVar(&o.skipGoBench, "skip-gobench", false, "skip the event store benchmarks")
	fs.BoolVar(&o.skipAmphorae, "skip-amphorae", false, "skip the local amphorae benchmarks (they need haproxy)")
	fs.BoolVar(&o.skipReplay, "skip-replay", false, "skip the replay benchmarks")
	fs.BoolVar(&o.skipSSE, "skip-sse", false, "skip the event stream fan-out benchmark")
	fs.BoolVar(&o.skipPGList, "skip-pg-list", false, "skip the list at -lbs load balancers on the PostgreSQL event store")
	fs.BoolVar(&o.skipLag, "skip-lag", false, "skip the projection lag benchmark")
	fs.BoolVar(&o.skipPGAppends, "skip-pg-appends", false, "skip the PostgreSQL event store append benchmarks only")
	fs.BoolVar(&o.skipPostgres, "skip-postgres", false, "skip the PostgreSQL benchmarks (skipped with a note anyway when -postgres-dsn is unreachable)")
	fs.StringVar(&o.postgresDSN, "postgres-dsn", envOr("OCTAVIA_ES_BENCH_POSTGRES", defaultPostgresDSN), "PostgreSQL (default $OCTAVIA_ES_BENCH_POSTGRES, else the local one) for the PostgreSQL benchmarks (each uses throw-away schemas)")
	fs.StringVar(&o.pgBenchtime, "pg-benchtime", "1s", "go test -benchtime for the PostgreSQL append benchmarks")
	fs.IntVar(&o.replayEvents, "replay-events", 1_000_000, "events generated for the replay benchmarks")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.lbs < 1 || o.workers < 1 {
		return o, errors.New("-lbs and -workers must be positive")
	}
	if o.target != "" && !isLoopbackURL(o.target) {
		return o, fmt.Errorf("-url %q: only a server on 127.0.0.1 or localhost is benchmarked", o.target)
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return 2
	}
	return execute(ctx, o, DefaultPlan(o.lbs, o.workers), stdout, stderr)
}

// execute runs what o asks for with the API plan p and prints the report.
func execute(ctx context.Context, o options, p Plan, stdout, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stderr, nil))
	if err := os.MkdirAll(o.out, 0o750); err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	started := time.Now()
	r := Result{
		Started:   started.UTC().Format(time.RFC3339),
		Commit:    gitCommit(ctx, o.repo),
		GoVersion: runtime.Version(),
		CPUs:      runtime.NumCPU(),
		Workers:   o.workers,
		Reference: octaviaRef(),
	}

	if !o.skipAPI {
		if err := runAPI(ctx, o, p, &r, log); err != nil {
			fmt.Fprintln(stderr, "loadgen:", err)
			r.Problems = append(r.Problems, err.Error())
		}
	}
	if !o.skipAmphorae && o.target == "" && ctx.Err() == nil {
		var problems []string
		r.Amphorae, problems = RunAmphorae(ctx, o, DefaultAmphoraPlan(o.workers), log)
		r.Problems = append(r.Problems, problems...)
	} else {
		r.Amphorae.Skipped = "not run (-skip-amphorae, or -url: they start their own server)"
	}
	if !o.skipSSE && o.target == "" && ctx.Err() == nil {
		r.SSE = RunSSE(ctx, o, DefaultSSEPlan(), log)
		r.Problems = append(r.Problems, sseProblems(r.SSE)...)
	} else {
		r.SSE.Skipped = "not run (-skip-sse, or -url: it starts its own server)"
	}
	// Replay measures stores of its own, not a server: -url (the figures of
	// a running server) skips it too.
	if !o.skipReplay && o.target == "" && ctx.Err() == nil {
		r.Replay = RunReplay(ctx, o.replayEvents, log)
		r.Problems = append(r.Problems, replayProblems(r.Replay)...)
	}
	if !o.skipGoBench && ctx.Err() == nil {
		log.Info("event store benchmarks (go test -bench)")
		var raw strings.Builder
		r.EventStore = RunEventStore(ctx, o.repo, o.benchtime, &raw)
		if r.EventStore.Error != "" {
			r.Problems = append(r.Problems, "event store benchmarks: "+firstLine(r.EventStore.Error))
		}
		_ = os.WriteFile(filepath.Join(o.out, "gobench.txt"), []byte(raw.String()), 0o644)
	}
	if !o.skipLag && o.target == "" && ctx.Err() == nil {
		r.Lag = RunLag(ctx, o, DefaultLagPlan(), o.skipPostgres, log)
		r.Problems = append(r.Problems, lagProblems(r.Lag)...)
	} else {
		r.Lag.Skipped = "-skip-lag, or -url: it starts its own servers"
	}
	if !o.skipPGList && !o.skipPostgres && o.target == "" && ctx.Err() == nil {
		r.PGList = RunPGList(ctx, o, p, o.lbs, log)
		r.Problems = append(r.Problems, pgListProblems(r.PGList)...)
	} else {
		r.PGList.Skipped = "-skip-pg-list, -skip-postgres, or -url: it starts its own server"
	}
	if !o.skipPostgres && !o.skipPGAppends && ctx.Err() == nil {
		log.Info("PostgreSQL event store benchmarks (go test -bench)", "dsn", redactDSN(o.postgresDSN))
		var raw strings.Builder
		r.Postgres = RunPostgres(ctx, o.repo, o.postgresDSN, o.pgBenchtime, &raw)
		if r.Postgres.Skipped != "" {
			fmt.Fprintln(stderr, "loadgen: PostgreSQL section skipped:", r.Postgres.Skipped)
		}
		if r.Postgres.Appends.Error != "" {
			r.Problems = append(r.Problems, "PostgreSQL benchmarks: "+firstLine(r.Postgres.Appends.Error))
		}
		_ = os.WriteFile(filepath.Join(o.out, "gobench-postgres.txt"), []byte(raw.String()), 0o644)
	} else {
		r.Postgres = PostgresResult{DSN: redactDSN(o.postgresDSN), Skipped: "-skip-postgres or -skip-pg-appends"}
	}
	r.DurationSec = time.Since(started).Seconds()

	if err := writeOutputs(o.out, started, r, stdout); err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	if len(r.Problems) > 0 {
		return 1 // errors are not speed: the server or a benchmark misbehaved
	}
	return 0
}

// runAPI starts the server (unless -url) and runs the API plan against it.
func runAPI(ctx context.Context, o options, p Plan, r *Result, log *slog.Logger) error {
	subnet := o.subnet
	if subnet == "" {
		subnet = subnetFromConfig(o.config)
	}
	base := o.target
	var srv *Server
	if base == "" {
		logFile, err := os.Create(filepath.Join(o.out, "server.log"))
		if err != nil {
			return fmt.Errorf("server log: %w", err)
		}
		defer logFile.Close()
		log.Info("starting server", "bin", o.bin, "config", o.config)
		srv, err = StartServer(ctx, o.bin, o.config, logFile, 30*time.Second)
		if err != nil {
			return err
		}
		defer srv.Stop()
		base = srv.URL
	}
	r.Server = base
	c := NewClient(base, o.project, subnet, p.Workers+1)
	defer c.Close()
	phases, problems := RunAPI(ctx, c, p, log)
	r.Phases, r.Problems = phases, append(r.Problems, problems...)
	if srv != nil {
		r.DataBytes = srv.DataBytes()
	}
	return nil
}

// writeOutputs prints the table to stdout and saves it with the JSON.
func writeOutputs(dir string, started time.Time, r Result, stdout io.Writer) error {
	var table strings.Builder
	if err := WriteReport(&table, r); err != nil {
		return err
	}
	if _, err := io.WriteString(stdout, table.String()); err != nil {
		return err
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	stamp := started.UTC().Format("20060102-150405")
	for name, data := range map[string][]byte{
		"bench-" + stamp + ".json": js,
		"latest.json":              js,
		"latest.txt":               []byte(table.String()),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	fmt.Fprintf(stdout, "JSON: %s\n", filepath.Join(dir, "bench-"+stamp+".json"))
	return nil
}

// subnetFromConfig returns the first configured subnet's id, or the
// embedded default's when the file can't be read.
func subnetFromConfig(path string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fallbackSubnet
	}
	var cfg struct {
		Network struct {
			Subnets []struct {
				ID string `yaml:"id"`
			} `yaml:"subnets"`
		} `yaml:"network"`
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil || len(cfg.Network.Subnets) == 0 || cfg.Network.Subnets[0].ID == "" {
		return fallbackSubnet
	}
	return cfg.Network.Subnets[0].ID
}

func gitCommit(ctx context.Context, dir string) string {
	cmd := exec.CommandContext(ctx, "git", "describe", "--always", "--dirty")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// envOr returns the environment variable key, or def when it is unset.
func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
