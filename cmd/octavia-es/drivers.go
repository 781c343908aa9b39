package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/octavia-es/octavia-es/adapters/amphora"
	"github.com/octavia-es/octavia-es/adapters/amphora/agent"
	"github.com/octavia-es/octavia-es/adapters/amphora/haproxy"
	amphoranoop "github.com/octavia-es/octavia-es/adapters/amphora/noop"
	"github.com/octavia-es/octavia-es/adapters/amphora/rest"
	certfiles "github.com/octavia-es/octavia-es/adapters/certificates/files"
	certlocal "github.com/octavia-es/octavia-es/adapters/certificates/local"
	"github.com/octavia-es/octavia-es/adapters/compute"
	computelocal "github.com/octavia-es/octavia-es/adapters/compute/local"
	computenoop "github.com/octavia-es/octavia-es/adapters/compute/noop"
	"github.com/octavia-es/octavia-es/adapters/network"
	networklocal "github.com/octavia-es/octavia-es/adapters/network/local"
	networknoop "github.com/octavia-es/octavia-es/adapters/network/noop"
	"github.com/octavia-es/octavia-es/adapters/noopkit"
)

// vipNetwork is a network driver whose allocations can be re-populated
// from the events at start-up (the noop and the local driver, whose
// default ledger is in memory).
type vipNetwork interface {
	network.Driver
	Reserve(ctx context.Context, loadBalancerID string, vip network.VIP) error
}

// drivers are the compute, network and amphora drivers chosen by config,
// as Octavia's [controller_worker] *_driver options.
type drivers struct {
	network vipNetwork
	// sharedVIPs: the network driver holds VIPs in the PostgreSQL ledger
	// every process shares (store.driver postgres), which outlives this
	// process: nothing to re-populate at start-up.
	sharedVIPs bool
	compute    compute.Driver
	amphora    amphora.Driver
	// heartbeats: the amphorae send heartbeats, so the health manager runs.
	heartbeats   bool
	heartbeatKey []byte
	// certificates is the local certificate manager (nil with the noop
	// drivers, which render nothing).
	certificates *certfiles.Manager
	// agentConfig is the agents' heartbeat settings: written at boot,
	// pushed again by PUT /v2/octavia/amphorae/{id}/config.
	agentConfig amphora.AgentConfig
	// serverCerts issues the agents' server certificates (the local CA;
	// nil with the noop drivers): housekeeping rotates them with it.
	serverCerts serverCertIssuer
	close       func()
}

const certValidity = 2 * 365 * 24 * time.Hour

func openDrivers(ctx context.Context, cfg Config, log *slog.Logger) (d drivers, err error) {
	d.close = func() {}
	subnets := make([]network.Subnet, 0, len(cfg.Network.Subnets))
	for _, s := range cfg.Network.Subnets {
		subnets = append(subnets, network.Subnet{ID: s.ID, Name: s.Name, NetworkID: s.NetworkID, CIDR: s.CIDR, GatewayIP: s.GatewayIP, ProjectID: s.ProjectID})
	}
	faults := noopkit.Config{Delay: cfg.Noop.Delay, FailOn: cfg.Noop.Fail}
	ledger, err := openVIPLedger(ctx, cfg, log.With("component", "network"))
	if err != nil {
		return d, err
	}
	localCfg := networklocal.Config{Subnets: subnets}
	noopCfg := networknoop.Config{Subnets: subnets, Faults: faults}
	if ledger != nil { // else the drivers' own in-memory ledger (not a typed nil)
		localCfg.Ledger, noopCfg.Ledger = ledger, ledger
		d.close, d.sharedVIPs = ledger.Close, true
	}
	switch cfg.Drivers.Network {
	case "local":
		d.network, err = networklocal.New(localCfg, log.With("component", "network"))
	default:
		d.network, err = networknoop.New(noopCfg)
	}
	if err != nil {
		return d, fmt.Errorf("network driver %s: %w", cfg.Drivers.Network, err)
	}
	if cfg.Drivers.Compute != "local" {
		if d.compute, err = computenoop.New(computenoop.Config{Faults: faults}); err != nil {
			return d, fmt.Errorf("compute driver: %w", err)
		}
		if d.amphora, err = amphoranoop.New(amphoranoop.Config{Faults: faults}); err != nil {
			return d, fmt.Errorf("amphora driver: %w", err)
		}
		return d, nil
	}

	// Local amphorae: a CA issues each agent's server certificate and the
	// controller's client certificate (mutual TLS, as Octavia's agent API).
	ca, err := certlocal.NewCA(filepath.Join(cfg.DataDir, "ca"))
	if err != nil {
		return d, fmt.Errorf("certificate authority: %w", err)
	}
	certPEM, keyPEM, err := ca.IssueClient(ctx, "octavia-es-controller", certValidity)
	if err != nil {
		return d, fmt.Errorf("controller certificate: %w", err)
	}
	client, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return d, fmt.Errorf("controller certificate: %w", err)
	}
	if d.heartbeatKey, err = heartbeatKey(cfg); err != nil {
		return d, err
	}
	baseDir := cfg.Amphora.BaseDir
	if baseDir == "" {
		baseDir = filepath.Join(cfg.DataDir, "amphorae")
	}
	d.agentConfig = amphora.AgentConfig{
		HeartbeatTargets:  []string{cfg.HealthManager.Listen},
		HeartbeatInterval: cfg.HealthManager.HeartbeatInterval,
		HeartbeatKey:      string(d.heartbeatKey),
	}
	comp, err := computelocal.New(computelocal.Config{
		BaseDir:       baseDir,
		HAProxyBinary: cfg.Amphora.HAProxyBinary,
		BootTimeout:   cfg.Amphora.BootTimeout,
		Heartbeat: agent.HeartbeatConfig{
			Targets:  d.agentConfig.HeartbeatTargets,
			Interval: d.agentConfig.HeartbeatInterval,
			Key:      d.agentConfig.HeartbeatKey,
		},
	}, computelocal.Deps{CA: ca, ClientCert: &client, Log: log.With("component", "compute")})
	if err != nil {
		return d, fmt.Errorf("compute driver local: %w", err)
	}
	// Amphorae outlive the controller, as Octavia's: closing the driver
	// leaves the agents serving; the next start re-adopts them.
	closeLedger := d.close
	d.close = func() { _ = comp.Close(); closeLedger() }
	d.compute = comp
	storage := cfg.Certificates.StoragePath
	if storage == "" {
		storage = filepath.Join(cfg.DataDir, "certificates")
	}
	if d.certificates, err = certfiles.New(storage); err != nil {
		d.close()
		return d, err
	}
	d.amphora, err = rest.New(rest.Options{
		ClientCert:   client,
		RootCAs:      ca.CertPool(),
		Render:       rest.HAProxyRenderer(haproxy.Options{MaxConn: haproxy.MaxConnForFileLimit(fileLimit())}),
		Certificates: d.certificates,
		Log:          log.With("component", "amphora"),
	})
	if err != nil {
		d.close()
		return d, fmt.Errorf("amphora driver rest: %w", err)
	}
	d.heartbeats = true
	d.serverCerts = ca
	return d, nil
}

// heartbeatKey is the configured key, or one generated once and kept in
// <data_dir>/heartbeat.key so agents started before a restart still match.
func heartbeatKey(cfg Config) ([]byte, error) {
	if cfg.HealthManager.HeartbeatKey != "" {
		return []byte(cfg.HealthManager.HeartbeatKey), nil
	}
	path := filepath.Join(cfg.DataDir, "heartbeat.key")
	if b, err := os.ReadFile(path); err == nil {
		if k := strings.TrimSpace(string(b)); k != "" {
			return []byte(k), nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("heartbeat key: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("heartbeat key: %w", err)
	}
	key := hex.EncodeToString(raw)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("heartbeat key: %w", err)
	}
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("heartbeat key: %w", err)
	}
	return []byte(key), nil
}

// fileLimit is the hard open-file limit the agents (and their HAProxy)
// inherit from this process: a local HAProxy cannot raise it, so maxconn
// is capped to what it allows (Octavia's amphorae raise it in their image).
func fileLimit() uint64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil || l.Max == 0 {
		return 1024
	}
	return l.Max
}
