package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// LagPlan is the projection lag figure: creates at a steady rate while
// /metrics' octavia_es_projection_lag_events is sampled.
type LagPlan struct {
	CreateRate float64       // load balancer creates per second
	Duration   time.Duration // how long creates are sent
	Every      time.Duration // lag sample interval
}

// DefaultLagPlan is 100 LB/s for 10 s, sampled every 10 ms.
func DefaultLagPlan() LagPlan {
	return LagPlan{CreateRate: 100, Duration: 10 * time.Second, Every: 10 * time.Millisecond}
}

// LagResult is the projection lag on each store, SQLite first (the baseline).
type LagResult struct {
	CreateRate float64  `json:"create_rate"`
	Seconds    float64  `json:"seconds"`
	Runs       []LagRun `json:"runs"`
	Skipped    string   `json:"skipped,omitempty"`
}

// LagRun is one store's figure. Lag is in events (store head minus the read
// model's checkpoint, computed by the server on each scrape).
type LagRun struct {
	Store      string  `json:"store"`
	Creates    int     `json:"creates"`
	Errors     int     `json:"errors"`
	CreatesPS  float64 `json:"creates_per_s"`
	Samples    int     `json:"samples"`
	P50Events  float64 `json:"p50_events"`
	P99Events  float64 `json:"p99_events"`
	MaxEvents  float64 `json:"max_events"`
	Skipped    string  `json:"skipped,omitempty"`
	Error      string  `json:"error,omitempty"`
	FirstError string  `json:"first_error,omitempty"`
}

// RunLag measures the lag on a SQLite-store server, then on a PostgreSQL-store
// one (a throwaway schema, migrated first, dropped after) unless skipPG.
func RunLag(ctx context.Context, o options, plan LagPlan, skipPG bool, log *slog.Logger) LagResult {
	res := LagResult{CreateRate: plan.CreateRate, Seconds: plan.Duration.Seconds()}
	subnet := o.subnet
	if subnet == "" {
		subnet = subnetFromConfig(o.config)
	}
	log.Info("projection lag: SQLite store")
	res.Runs = append(res.Runs, lagOn(ctx, o, plan, subnet, "SQLite", nil, log))
	pg := LagRun{Store: "PostgreSQL"}
	switch {
	case skipPG:
		pg.Skipped = "-skip-postgres"
	case ctx.Err() != nil:
		pg.Skipped = "interrupted"
	default:
		pg = lagPostgres(ctx, o, plan, subnet, log)
	}
	res.Runs = append(res.Runs, pg)
	return res
}

func lagPostgres(ctx context.Context, o options, plan LagPlan, subnet string, log *slog.Logger) LagRun {
	run := LagRun{Store: "PostgreSQL"}
	env, cleanup, skipped, err := postgresStoreEnv(ctx, o, "bench_lag_", log)
	defer cleanup()
	if skipped != "" || err != nil {
		run.Skipped = skipped
		if err != nil {
			run.Error = err.Error()
		}
		return run
	}
	log.Info("projection lag: PostgreSQL store")
	return lagOn(ctx, o, plan, subnet, "PostgreSQL", env, log)
}

// postgresStoreEnv migrates a throwaway schema named prefix+random and
// returns the server environment that selects it; cleanup drops it. skipped
// is set when PostgreSQL does not answer.
func postgresStoreEnv(ctx context.Context, o options, prefix string, log *slog.Logger) (env []string, cleanup func(), skipped string, err error) {
	cleanup = func() {}
	if err := reachable(ctx, o.postgresDSN); err != nil {
		return nil, cleanup, "PostgreSQL unreachable: " + err.Error(), nil
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := prefix + hex.EncodeToString(b)
	cleanup = func() { dropSchema(ctx, o.postgresDSN, schema, log) }
	mctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(mctx, o.bin, "migrate", "--postgres-dsn", o.postgresDSN, "--postgres-schema", schema).CombinedOutput()
	if err != nil {
		return nil, cleanup, "", fmt.Errorf("migrate: %w: %s", err, firstLine(string(out)))
	}
	return []string{
		"OCTAVIA_ES_STORE_DRIVER=postgres",
		"OCTAVIA_ES_STORE_POSTGRES_DSN=" + o.postgresDSN,
		"OCTAVIA_ES_STORE_POSTGRES_SCHEMA=" + schema,
	}, cleanup, "", nil
}

func dropSchema(ctx context.Context, dsn, schema string, log *slog.Logger) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(dctx, dsn)
	if err != nil {
		log.Warn("drop the lag benchmark's schema", "schema", schema, "err", err)
		return
	}
	defer conn.Close(dctx)
	if _, err := conn.Exec(dctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
		log.Warn("drop the lag benchmark's schema", "schema", schema, "err", err)
	}
}

// lagOn starts a server with env (noop drivers) and measures on it.
func lagOn(ctx context.Context, o options, plan LagPlan, subnet, store string, env []string, log *slog.Logger) LagRun {
	run := LagRun{Store: store}
	logFile, err := os.Create(filepath.Join(o.out, "server-lag-"+strings.ToLower(store)+".log"))
	if err != nil {
		run.Error = err.Error()
		return run
	}
	defer logFile.Close()
	env = append([]string{"OCTAVIA_ES_DRIVERS_COMPUTE=noop", "OCTAVIA_ES_DRIVERS_NETWORK=noop", "OCTAVIA_ES_DRIVERS_AMPHORA=noop"}, env...)
	srv, err := startServer(ctx, o.bin, o.config, logFile, 30*time.Second, env...)
	if err != nil {
		run.Error = err.Error()
		return run
	}
	defer srv.Stop()
	c := NewClient(srv.URL, o.project, subnet, 32)
	defer c.Close()
	measureLag(ctx, c, srv.URL, plan, &run)
	return run
}

// measureLag sends creates at plan's rate for plan.Duration (each in its own
// goroutine, at most 32 in flight) while sampling the lag gauge, and keeps
// sampling until the lag is back to 0 (at most 5 s more).
func measureLag(ctx context.Context, c *Client, base string, plan LagPlan, run *LagRun) {
	sctx, stopSampling := context.WithCancel(ctx)
	var samples []float64
	var sampleErr error
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		samples, sampleErr = sampleLag(sctx, base, plan.Every)
	}()

	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	interval := time.Duration(float64(time.Second) / plan.CreateRate)
	start := time.Now()
	tick := time.NewTicker(interval)
	for i := 0; time.Since(start) < plan.Duration && ctx.Err() == nil; i++ {
		<-tick.C
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			_, err := c.CreateLB(ctx, fmt.Sprintf("lag-%d", i))
			mu.Lock()
			defer mu.Unlock()
			run.Creates++
			if err != nil {
				run.Errors++
				if run.FirstError == "" {
					run.FirstError = err.Error()
				}
			}
		})
	}
	tick.Stop()
	wg.Wait()
	run.CreatesPS = float64(run.Creates) / time.Since(start).Seconds()
	// Let the read model catch up, so the tail is in the samples.
	drain := time.Now().Add(5 * time.Second)
	for time.Now().Before(drain) && ctx.Err() == nil {
		if v, err := scrapeLag(ctx, base); err == nil && v == 0 {
			break
		}
		time.Sleep(plan.Every)
	}
	stopSampling()
	<-sampled
	if len(samples) == 0 {
		run.Error = fmt.Sprintf("no lag samples from %s/metrics: %v", base, sampleErr)
		return
	}
	sort.Float64s(samples)
	run.Samples = len(samples)
	run.P50Events = pct(samples, 0.50)
	run.P99Events = pct(samples, 0.99)
	run.MaxEvents = samples[len(samples)-1]
}

// sampleLag scrapes the gauge every interval until ctx ends.
func sampleLag(ctx context.Context, base string, every time.Duration) ([]float64, error) {
	var out []float64
	var lastErr error
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return out, lastErr
		case <-t.C:
		}
		v, err := scrapeLag(ctx, base)
		if err != nil {
			lastErr = err
			continue
		}
		out = append(out, v)
	}
}

var lagHTTP = &http.Client{Timeout: 2 * time.Second}

// scrapeLag reads octavia_es_projection_lag_events from base/metrics.
func scrapeLag(ctx context.Context, base string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return 0, fmt.Errorf("metrics request: %w", err)
	}
	resp, err := lagHTTP.Do(req)
	if err != nil {
		return 0, fmt.Errorf("GET /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return 0, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	return parseLag(resp.Body)
}

// parseLag finds the lag gauge in a Prometheus text exposition.
func parseLag(r io.Reader) (float64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || name != "octavia_es_projection_lag_events" {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			return 0, fmt.Errorf("lag gauge %q: %w", val, err)
		}
		return v, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read /metrics: %w", err)
	}
	return 0, fmt.Errorf("no octavia_es_projection_lag_events in /metrics")
}

// pct is the nearest-rank percentile of sorted values.
func pct(sorted []float64, p float64) float64 {
	i := int(float64(len(sorted))*p+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func lagTable(l LagResult) Table {
	t := Table{
		Title: fmt.Sprintf("Projection lag: octavia-es serve (noop drivers) on each event store, %.0f creates/s for %.0f s, "+
			"octavia_es_projection_lag_events (store head − read model checkpoint, in events) scraped from /metrics every 10 ms. "+
			"The read model is SQLite in both (PostgreSQL read models are not built yet). Baseline: the SQLite store, same load, same run.",
			l.CreateRate, l.Seconds),
		Header: []string{"store", "creates", "creates/s", "samples", "lag p50", "lag p99", "lag max", "p99 vs SQLite"},
	}
	if l.Skipped != "" {
		t.Add("-", "-", "-", "-", "-", "-", "-", "not run: "+l.Skipped)
		return t
	}
	var base *LagRun
	for i := range l.Runs {
		r := l.Runs[i]
		switch {
		case r.Skipped != "":
			t.Add(r.Store, "-", "-", "-", "-", "-", "-", "not run: "+r.Skipped)
			continue
		case r.Error != "":
			t.Add(r.Store, "-", "-", "-", "-", "-", "-", "error: "+firstLine(r.Error))
			continue
		}
		cmp := "(baseline)"
		if base == nil {
			base = &l.Runs[i]
		} else {
			cmp = fmt.Sprintf("%.0f vs %.0f events", r.P99Events, base.P99Events)
		}
		creates := strconv.Itoa(r.Creates)
		if r.Errors > 0 {
			creates += fmt.Sprintf(" (%d errors)", r.Errors)
		}
		t.Add(r.Store, creates, fmtRate(r.CreatesPS), strconv.Itoa(r.Samples),
			fmt.Sprintf("%.0f", r.P50Events), fmt.Sprintf("%.0f", r.P99Events), fmt.Sprintf("%.0f", r.MaxEvents), cmp)
	}
	return t
}

func lagProblems(l LagResult) []string {
	var out []string
	for _, r := range l.Runs {
		if r.Error != "" {
			out = append(out, "projection lag ("+r.Store+"): "+firstLine(r.Error))
		}
		if r.Errors > 0 {
			out = append(out, fmt.Sprintf("projection lag (%s): %d of %d creates failed: %s", r.Store, r.Errors, r.Creates, firstLine(r.FirstError)))
		}
	}
	return out
}
