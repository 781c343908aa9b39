package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	computelocal "github.com/octavia-es/octavia-es/adapters/compute/local"
)

// serveCommand parses the flags of `serve` (or of api, worker,
// health-manager: proc), loads the configuration and runs the process until
// ctx ends (SIGINT/SIGTERM).
func serveCommand(ctx context.Context, proc process, args, env []string, stderr io.Writer) int {
	fs := flag.NewFlagSet(proc.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML configuration file (default: built-in embedded defaults, as etc/octavia-es.yaml)")
	listen := fs.String("listen", "", "API address, overrides api.listen")
	dataDir := fs.String("data-dir", "", "data directory, overrides data_dir")
	metricsListen := fs.String("metrics-listen", "", "address of /metrics and /healthcheck besides the API's, overrides metrics.listen")
	fs.StringVar(&proc.readModel, "read-model", "", "this process's read model file (default <data-dir>/readmodel.db for serve, <data-dir>/readmodel-<command>.db otherwise)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := loadConfig(*configPath, env)
	if err == nil {
		if *listen != "" {
			cfg.API.Listen = *listen
		}
		if *dataDir != "" {
			cfg.DataDir = *dataDir
		}
		if *metricsListen != "" {
			cfg.Metrics.Listen = *metricsListen
		}
		err = cfg.Validate()
	}
	if err == nil {
		err = cfg.validateFor(proc)
	}
	if err != nil {
		fmt.Fprintf(stderr, "octavia-es: invalid configuration:\n%v\n", err)
		return 2
	}
	log := newLogger(cfg.Log, stderr)
	if err := serve(ctx, cfg, log, proc); err != nil {
		var se *startError
		if errors.As(err, &se) {
			// Plainly, not as a log line: this is what a user of `make run`
			// reads first.
			fmt.Fprintf(stderr, "octavia-es: cannot start: %v\n", se.err)
			if errors.Is(err, computelocal.ErrHAProxyNotFound) {
				fmt.Fprint(stderr, haproxyHint)
			}
			return 1
		}
		log.Error("octavia-es stopped", "err", err)
		return 1
	}
	return 0
}

// haproxyHint follows a start refused because HAProxy is not installed.
const haproxyHint = `
The default drivers (local compute, local network, rest amphora) run each
amphora as a local process with HAProxy. Either install HAProxy:
    sudo apt-get install -y haproxy
or run without amphorae (objects still go ACTIVE, nothing carries traffic):
    OCTAVIA_ES_DRIVERS_COMPUTE=noop OCTAVIA_ES_DRIVERS_NETWORK=noop OCTAVIA_ES_DRIVERS_AMPHORA=noop make run
(or drivers: {compute: noop, network: noop, amphora: noop} in the config file).
`

// startError: the process could not start (configuration of a driver,
// files, ports), as opposed to a component failing while serving.
type startError struct{ err error }

func (e *startError) Error() string { return e.err.Error() }
func (e *startError) Unwrap() error { return e.err }

func newLogger(c LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.Level)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serve runs the components of proc until ctx ends, then shuts them down in
// reverse order: HTTP first (no new commands), then the workers, then the
// stores.
func serve(ctx context.Context, cfg Config, log *slog.Logger, proc process) error {
	app, err := openApp(ctx, cfg, log, proc)
	if err != nil {
		return &startError{err}
	}
	defer app.close()
	stopOps, err := serveOps(ctx, cfg.Metrics.Listen, opsHandler(app.metrics, app.healthchk), log)
	if err != nil {
		return &startError{err}
	}
	defer stopOps()

	var ln net.Listener
	srv := &http.Server{
		Handler:           app.handler,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if proc.has(roleAPI) {
		if ln, err = net.Listen("tcp", cfg.API.Listen); err != nil {
			return &startError{fmt.Errorf("listen on %s: %w", cfg.API.Listen, err)}
		}
	}

	workCtx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	errc := make(chan error, 1)
	go func() { errc <- app.run(workCtx) }()

	attrs := []any{"process", proc.name, "version", version(), "data_dir", absPath(cfg.DataDir), "drivers", cfg.Drivers}
	if ln != nil {
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("http: %w", err)
			}
		}()
		attrs = append(attrs, "listen", ln.Addr().String())
	}
	log.Info("octavia-es serving", attrs...)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	log.Info("octavia-es stopping")
	if ln != nil {
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			log.Warn("http shutdown", "err", err)
		}
	}
	stopWork()
	app.wait()
	return runErr
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
