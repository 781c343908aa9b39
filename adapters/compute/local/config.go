package local

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/octavia-es/octavia-es/adapters/amphora/agent"
)

// Defaults of the zero Config fields.
const (
	DefaultLBNetworkIP   = "127.0.0.1"
	DefaultBootTimeout   = 10 * time.Second
	DefaultStopTimeout   = 5 * time.Second
	DefaultCertValidity  = 2 * 365 * 24 * time.Hour // Octavia's [certificates] cert_validity_time
	DefaultHAProxyBinary = "haproxy"
)

// ErrHAProxyNotFound: HAProxy, which every amphora runs, is not installed
// (wrapped by New's error).
var ErrHAProxyNotFound = errors.New("haproxy not found")

// Config configures the local compute driver (the `local:` section of the
// controller's configuration).
type Config struct {
	// BaseDir holds one working directory per amphora, <base_dir>/<amphora
	// id>/ (the controller sets it to <data_dir>/amphorae). Required.
	BaseDir string `yaml:"base_dir"`
	// Executable is the octavia-es binary run as
	// `<executable> amphora-agent --config <dir>/agent.yaml`; empty: this
	// process's own executable.
	Executable string `yaml:"executable"`
	// LBNetworkIP is the address agents listen on (each on its own port).
	LBNetworkIP string `yaml:"lb_network_ip"`
	// BootTimeout bounds how long a started agent may take to answer.
	BootTimeout time.Duration `yaml:"boot_timeout"`
	// StopTimeout is how long a deleted agent gets after SIGTERM before
	// SIGKILL.
	StopTimeout time.Duration `yaml:"stop_timeout"`
	// CertValidity of the server certificate each agent gets at boot.
	CertValidity time.Duration `yaml:"cert_validity"`
	// HAProxyBinary is written into every agent's configuration; it must be
	// found (on PATH when not a path) or New fails with how to install it.
	HAProxyBinary string `yaml:"haproxy_binary"`
	// Heartbeat is written into every agent's configuration: where to send
	// heartbeats, how often, and the HMAC key.
	Heartbeat agent.HeartbeatConfig `yaml:"heartbeat"`
}

// CA issues the agents' server certificates. The controller's certificate
// authority (adapters/certificates.Generator) satisfies it.
type CA interface {
	// IssueServer returns a PEM certificate and key for the agent of
	// amphoraID (named by it), valid for hosts (IP addresses or names).
	IssueServer(ctx context.Context, amphoraID string, hosts []string, validity time.Duration) (certPEM, keyPEM []byte, err error)
	// CACertPEM is the CA certificate: each agent's client CA.
	CACertPEM() []byte
	// CertPool holds the CA certificate, to verify agents at boot.
	CertPool() *x509.CertPool
}

// Deps are the driver's collaborators.
type Deps struct {
	CA CA // required
	// ClientCert, when set, is presented to agents: the boot probe then
	// asks GET /1.0/info and wants 200. Without it, the probe wants a TLS
	// handshake with a certificate the CA signed.
	ClientCert *tls.Certificate
	Log        *slog.Logger
}

// withDefaults fills the zero fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	if c.BaseDir == "" {
		errs = append(errs, errors.New("base_dir is required"))
	} else if abs, err := filepath.Abs(c.BaseDir); err != nil {
		errs = append(errs, fmt.Errorf("base_dir: %w", err))
	} else {
		c.BaseDir = abs // the agent runs in another directory
	}
	if c.Executable == "" {
		exe, err := os.Executable()
		if err != nil {
			errs = append(errs, fmt.Errorf("executable: %w", err))
		}
		c.Executable = exe
	}
	if st, err := os.Stat(c.Executable); err != nil || st.IsDir() {
		errs = append(errs, fmt.Errorf("executable %q is not a file", c.Executable))
	}
	if c.LBNetworkIP == "" {
		c.LBNetworkIP = DefaultLBNetworkIP
	}
	if _, err := netip.ParseAddr(c.LBNetworkIP); err != nil {
		errs = append(errs, fmt.Errorf("lb_network_ip %q: want an IP address", c.LBNetworkIP))
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"boot_timeout", &c.BootTimeout, DefaultBootTimeout},
		{"stop_timeout", &c.StopTimeout, DefaultStopTimeout},
		{"cert_validity", &c.CertValidity, DefaultCertValidity},
	} {
		if *d.v == 0 {
			*d.v = d.def
		}
		if *d.v < 0 {
			errs = append(errs, fmt.Errorf("%s %s: must not be negative", d.name, *d.v))
		}
	}
	if c.Heartbeat.Interval < 0 {
		errs = append(errs, fmt.Errorf("heartbeat.interval %s: must not be negative", c.Heartbeat.Interval))
	}
	for _, target := range c.Heartbeat.Targets {
		if _, _, err := net.SplitHostPort(target); err != nil {
			errs = append(errs, fmt.Errorf("heartbeat.targets %q: want host:port", target))
		}
	}
	if len(c.Heartbeat.Targets) > 0 && c.Heartbeat.Key == "" {
		errs = append(errs, errors.New("heartbeat.key is required: heartbeats are signed with it"))
	}
	if c.HAProxyBinary == "" {
		c.HAProxyBinary = DefaultHAProxyBinary
	}
	if path, err := exec.LookPath(c.HAProxyBinary); err != nil {
		errs = append(errs, fmt.Errorf("haproxy_binary %q: %w: amphorae run HAProxy; install it "+
			"(Debian/Ubuntu: `sudo apt-get install haproxy`) or choose the noop drivers "+
			"(drivers: {compute: noop, network: noop, amphora: noop})", c.HAProxyBinary, ErrHAProxyNotFound))
	} else if abs, err := filepath.Abs(path); err == nil {
		c.HAProxyBinary = abs // agents must run the binary checked here
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("local compute: %w", err)
	}
	return c, nil
}
