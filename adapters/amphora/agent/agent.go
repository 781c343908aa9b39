package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/octavia-es/octavia-es/adapters/amphora/haproxy"
	"github.com/octavia-es/octavia-es/adapters/amphora/heartbeat"
)

// Run listens on cfg.Listen and serves until ctx ends (see Serve).
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("amphora agent: listen on %s: %w", cfg.Listen, err)
	}
	return Serve(ctx, cfg, ln, log)
}

// Serve runs the agent on ln (which replaces cfg.Listen): the REST API over
// mutual TLS, the load balancers' HAProxy processes (those configured
// before a restart are started again) and the heartbeats. When ctx ends it
// stops serving and stops every HAProxy it runs before returning.
func Serve(ctx context.Context, cfg Config, ln net.Listener, log *slog.Logger) error {
	defer ln.Close()
	asFiled := cfg // what agent.yaml holds: PUT /1.0/config rewrites it
	cfg = cfg.withDefaults()
	cfg.Listen = ln.Addr().String()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("amphora agent: invalid configuration: %w", err)
	}
	tlsConf, sc, err := serverTLS(cfg.TLS, cfg.AmphoraID)
	if err != nil {
		return err
	}
	hap, err := findHAProxy(ctx, cfg.HAProxyBinary)
	if err != nil {
		return fmt.Errorf("amphora agent: %w", err)
	}
	if err := os.MkdirAll(cfg.BaseDir, 0o700); err != nil {
		return fmt.Errorf("amphora agent: %w", err)
	}
	if err := writeFileAtomic(PingWrapperPath(cfg.BaseDir), haproxy.PingWrapperScript(), 0o755); err != nil {
		return fmt.Errorf("amphora agent: install the ping wrapper: %w", err)
	}

	mg := newManager(cfg.BaseDir, hap, log)
	defer mg.close()
	mg.startExisting()

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	// Always running, silent without targets: PUT /1.0/config may give it
	// some.
	sender, err := heartbeat.NewSender(senderConfig(cfg), mg.heartbeat, log)
	if err != nil {
		return fmt.Errorf("amphora agent: %w", err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := sender.Run(ctx); err != nil {
			log.Error("heartbeats stopped", "err", err)
		}
	}()

	a := &api{
		mg: mg, info: newInfoSource(cfg.AmphoraID, cfg.BaseDir, hap.version),
		vips: &vipRecord{path: filepath.Join(cfg.BaseDir, "vips.json")}, ampID: cfg.AmphoraID, log: log,
		conf: &liveConfig{file: asFiled, listen: cfg.Listen, sender: sender}, cert: sc,
	}
	srv := &http.Server{
		Handler:           a.routes(),
		TLSConfig:         tlsConf,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		// Refused handshakes (no client certificate) are the peer's problem.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	served := make(chan error, 1)
	go func() { served <- srv.ServeTLS(ln, "", "") }()
	log.Info("amphora agent serving", "amphora_id", cfg.AmphoraID, "listen", ln.Addr().String(),
		"base_dir", cfg.BaseDir, "haproxy", hap.path, "haproxy_version", hap.version)

	select {
	case err = <-served:
		return fmt.Errorf("amphora agent: serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("amphora agent: serve: %w", err)
	}
	log.Info("amphora agent stopped", "amphora_id", cfg.AmphoraID)
	return nil
}

// serverTLS requires a client certificate signed by the client CA, TLS 1.2
// or later (Octavia's agent_tls_protocol default is TLSv1.2). The server
// certificate comes from sc, which PUT /1.0/certificate replaces live.
func serverTLS(c TLSConfig, ampID string) (*tls.Config, *serverCert, error) {
	caPEM, err := os.ReadFile(c.ClientCAFile)
	if err != nil {
		return nil, nil, fmt.Errorf("amphora agent: client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, nil, fmt.Errorf("amphora agent: client CA %s holds no PEM certificate", c.ClientCAFile)
	}
	sc, err := newServerCert(c, ampID, pool)
	if err != nil {
		return nil, nil, err
	}
	return &tls.Config{
		GetCertificate: sc.get,
		ClientCAs:      pool,
		ClientAuth:     tls.RequireAndVerifyClientCert,
		MinVersion:     tls.VersionTLS12,
	}, sc, nil
}
