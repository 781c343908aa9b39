package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LagPlan is the projection lag figure: creates at a steady rate while
// /metrics' octavia_es_projection_lag_events is sampled.
type LagPlan struct {
	CreateRate float64       // load balancer creates per second
	Duration   time.Duration // how long creates are sent
	Every      time.Duration // lag sample interval
	Drain      time.Duration // after the creates, sampling goes on until every lag is 0, at most this long
}

// DefaultLagPlan is 100 LB/s for 10 s, sampled every 10 ms.
func DefaultLagPlan() LagPlan {
	return LagPlan{CreateRate: 100, Duration: 10 * time.Second, Every: 10 * time.Millisecond, Drain: 5 * time.Second}
}

// LagResult is the projection lag of each process measured, the SQLite
// store's serve first (the baseline of the stores).
type LagResult struct {
	CreateRate float64  `json:"create_rate"`
	Seconds    float64  `json:"seconds"`
	Runs       []LagRun `json:"runs"`
	Skipped    string   `json:"skipped,omitempty"`
}

// LagRun is one process's figure under one store and read model. Lag is in
// events (store head minus the process's read model checkpoint, computed by
// the process on each scrape): for a process that does not project (api
// beside serve on the PostgreSQL read model) the checkpoint is the one the
// projector's NOTIFY told it.
type LagRun struct {
	Store     string `json:"store"`
	ReadModel string `json:"read_model"`
	Process   string `json:"process"` // serve, or api (started beside serve)
	// Projects: this process ran the projector of its read model (its own
	// SQLite file, or the PostgreSQL one's lease).
	Projects   bool    `json:"projects"`
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

// lagSetup is one measurement: a serve on store and read model, and with
// api an `octavia-es api` process beside it (creates go to serve).
type lagSetup struct {
	store, readModel string
	env              []string // selects the store and read model
	api              []string // nil: no api process; else its extra environment
}

// RunLag measures the lag on a SQLite-store serve, then (unless skipPG) on
// PostgreSQL-store ones with the SQLite read model and with the PostgreSQL
// read model, each on a throwaway schema migrated first and dropped after,
// each with an api process beside serve.
func RunLag(ctx context.Context, o options, plan LagPlan, skipPG bool, log *slog.Logger) LagResult {
	res := LagResult{CreateRate: plan.CreateRate, Seconds: plan.Duration.Seconds()}
	subnet := o.subnet
	if subnet == "" {
		subnet = subnetFromConfig(o.config)
	}
	log.Info("projection lag: SQLite store, SQLite read model")
	res.Runs = append(res.Runs, lagOn(ctx, o, plan, subnet, lagSetup{store: "SQLite", readModel: rmSQLite}, log)...)
	for _, rm := range []string{rmSQLite, rmPostgres} {
		skip := LagRun{Store: "PostgreSQL", ReadModel: rm, Process: "serve"}
		switch {
		case skipPG:
			skip.Skipped = "-skip-postgres"
		case ctx.Err() != nil:
			skip.Skipped = "interrupted"
		default:
			res.Runs = append(res.Runs, lagPostgres(ctx, o, plan, subnet, rm, log)...)
			continue
		}
		res.Runs = append(res.Runs, skip)
	}
	return res
}

func lagPostgres(ctx context.Context, o options, plan LagPlan, subnet, readModel string, log *slog.Logger) []LagRun {
	env, cleanup, skipped, err := postgresStoreEnv(ctx, o, "bench_lag_", log)
	defer cleanup()
	if skipped != "" || err != nil {
		run := LagRun{Store: "PostgreSQL", ReadModel: readModel, Process: "serve", Skipped: skipped}
		if err != nil {
			run.Error = err.Error()
		}
		return []LagRun{run}
	}
	log.Info("projection lag: PostgreSQL store", "read model", readModel)
	return lagOn(ctx, o, plan, subnet, lagSetup{
		store: "PostgreSQL", readModel: readModel,
		env: append(env, readModelEnv(readModel)), api: apiProcessEnv(o.postgresDSN),
	}, log)
}

// lagOn starts serve (noop drivers) and, if asked, an api process beside
// it, and measures the lag each of them reports under the same creates.
func lagOn(ctx context.Context, o options, plan LagPlan, subnet string, s lagSetup, log *slog.Logger) []LagRun {
	runs := []LagRun{{Store: s.store, ReadModel: s.readModel, Process: "serve"}}
	if s.api != nil {
		runs = append(runs, LagRun{Store: s.store, ReadModel: s.readModel, Process: "api"})
	}
	fail := func(err error) []LagRun {
		for i := range runs {
			runs[i].Error = err.Error()
		}
		return runs
	}
	env := append([]string{"OCTAVIA_ES_DRIVERS_COMPUTE=noop", "OCTAVIA_ES_DRIVERS_NETWORK=noop", "OCTAVIA_ES_DRIVERS_AMPHORA=noop"}, s.env...)
	name := "server-lag-" + strings.ToLower(s.store) + "-rm-" + strings.ToLower(s.readModel)
	servePath := filepath.Join(o.out, name+".log")
	serveLog, err := os.Create(servePath)
	if err != nil {
		return fail(err)
	}
	defer serveLog.Close()
	srv, err := startServer(ctx, o.bin, o.config, serveLog, 30*time.Second, env...)
	if err != nil {
		return fail(err)
	}
	defer srv.Stop()
	shared := s.readModel == rmPostgres
	if shared && !waitLog(ctx, servePath, projectorLeaseLog, 10*time.Second) {
		log.Warn("serve has not taken the projector lease yet; the api process may take it", "log", servePath)
	}
	targets := []lagTarget{{base: srv.URL, run: &runs[0]}}

	apiPath := filepath.Join(o.out, name+"-api.log")
	if s.api != nil {
		apiLog, err := os.Create(apiPath)
		if err != nil {
			return fail(err)
		}
		defer apiLog.Close()
		api, err := startProcess(ctx, o.bin, "api", o.config, apiLog, 30*time.Second, append(env, s.api...)...)
		if err != nil {
			runs[1].Error = "api process: " + err.Error()
		} else {
			defer api.Stop()
			targets = append(targets, lagTarget{base: api.URL, run: &runs[1]})
		}
	}
	c := NewClient(srv.URL, o.project, subnet, 32)
	defer c.Close()
	measureLag(ctx, c, plan, targets)

	// Who projected: a SQLite read model is each process's own; the
	// PostgreSQL one's projector runs where the lease is (its logs say).
	runs[0].Projects = !shared || logContains(servePath, projectorLeaseLog)
	if s.api != nil {
		runs[1].Projects = !shared || logContains(apiPath, projectorLeaseLog)
	}
	return runs
}

// lagTarget is one process whose gauge is sampled, and where its figure goes.
type lagTarget struct {
	base string
	run  *LagRun
}

// lagLoad is what the steady creates did.
type lagLoad struct {
	creates, errors int
	firstError      string
	perSec          float64
}

// measureLag sends creates at plan's rate for plan.Duration while sampling
// every target's lag gauge, and keeps sampling until every lag is back to 0
// (at most plan.Drain more).
func measureLag(ctx context.Context, c *Client, plan LagPlan, targets []lagTarget) {
	sctx, stopSampling := context.WithCancel(ctx)
	samples := make([][]float64, len(targets))
	sampleErrs := make([]error, len(targets))
	var sampling sync.WaitGroup
	for i, t := range targets {
		sampling.Go(func() { samples[i], sampleErrs[i] = sampleLag(sctx, t.base, plan.Every) })
	}
	load := sendCreates(ctx, c, plan)
	// Let the read models catch up, so the tail is in the samples.
	drain := time.Now().Add(plan.Drain)
	for time.Now().Before(drain) && ctx.Err() == nil && !allCaughtUp(ctx, targets) {
		time.Sleep(plan.Every)
	}
	stopSampling()
	sampling.Wait()
	for i, t := range targets {
		r := t.run
		r.Creates, r.Errors, r.FirstError, r.CreatesPS = load.creates, load.errors, load.firstError, load.perSec
		s := samples[i]
		if len(s) == 0 {
			r.Error = fmt.Sprintf("no lag samples from %s/metrics: %v", t.base, sampleErrs[i])
			continue
		}
		sort.Float64s(s)
		r.Samples = len(s)
		r.P50Events = pct(s, 0.50)
		r.P99Events = pct(s, 0.99)
		r.MaxEvents = s[len(s)-1]
	}
}

// sendCreates posts load balancers at plan's rate for plan.Duration, each
// in its own goroutine, at most 32 in flight.
func sendCreates(ctx context.Context, c *Client, plan LagPlan) lagLoad {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		load lagLoad
	)
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
			load.creates++
			if err != nil {
				load.errors++
				if load.firstError == "" {
					load.firstError = err.Error()
				}
			}
		})
	}
	tick.Stop()
	wg.Wait()
	load.perSec = float64(load.creates) / time.Since(start).Seconds()
	return load
}

// allCaughtUp reports whether every target's lag gauge reads 0.
func allCaughtUp(ctx context.Context, targets []lagTarget) bool {
	for _, t := range targets {
		if v, err := scrapeLag(ctx, t.base); err != nil || v != 0 {
			return false
		}
	}
	return true
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
