// Package agent is the amphora agent: the process that runs inside an
// amphora (here: a local process started by the local compute driver), as
// Octavia's amphora-agent. It serves a versioned REST API (/1.0) over mutual
// TLS to the controller, runs one master-worker HAProxy per load balancer,
// and sends signed UDP heartbeats with listener/pool/member status and
// counters read from HAProxy's stats socket.
package agent

import (
	"errors"
	"fmt"
	"time"
)

// Config is the agent's configuration. The local compute driver writes it as
// YAML (agent.yaml in the amphora's working directory) and starts
// `octavia-es amphora-agent --config <dir>/agent.yaml`.
type Config struct {
	AmphoraID string `yaml:"amphora_id"`
	// Listen is the agent API address (host:port), e.g. 127.0.0.1:9443+n.
	Listen string `yaml:"listen"`
	// BaseDir holds per-load-balancer HAProxy configs, sockets, pid and
	// state files (Octavia's [haproxy_amphora] base_path).
	BaseDir string    `yaml:"base_dir"`
	TLS     TLSConfig `yaml:"tls"`
	// HAProxyBinary is the haproxy executable (default "haproxy" on PATH).
	HAProxyBinary string          `yaml:"haproxy_binary"`
	Heartbeat     HeartbeatConfig `yaml:"heartbeat"`

	// File is the path this configuration was read from (not a key of
	// it): PUT /1.0/config rewrites it, so a change outlives a restart.
	// "" = PUT /1.0/config is refused.
	File string `yaml:"-"`
}

// TLSConfig: the agent's server certificate (issued by the controller CA at
// boot) and the CA that signs controller client certificates.
type TLSConfig struct {
	CertFile     string `yaml:"cert_file"`
	KeyFile      string `yaml:"key_file"`
	ClientCAFile string `yaml:"client_ca_file"`
}

// HeartbeatConfig is Octavia's [health_manager] controller_ip_port_list,
// heartbeat_interval and heartbeat_key.
type HeartbeatConfig struct {
	Targets  []string      `yaml:"targets"` // host:port of health managers
	Interval time.Duration `yaml:"interval"`
	Key      string        `yaml:"key"` // HMAC key shared with the health managers
}

// Defaults applied by Run to unset fields.
const (
	DefaultHAProxyBinary     = "haproxy"
	DefaultHeartbeatInterval = time.Second
)

// withDefaults fills unset fields.
func (c Config) withDefaults() Config {
	if c.HAProxyBinary == "" {
		c.HAProxyBinary = DefaultHAProxyBinary
	}
	if c.Heartbeat.Interval == 0 {
		c.Heartbeat.Interval = DefaultHeartbeatInterval
	}
	return c
}

// Validate reports every missing or invalid field at once.
func (c Config) Validate() error {
	var errs []error
	if c.AmphoraID == "" {
		errs = append(errs, errors.New("amphora_id is required"))
	}
	if c.Listen == "" {
		errs = append(errs, errors.New("listen is required"))
	}
	if c.BaseDir == "" {
		errs = append(errs, errors.New("base_dir is required"))
	}
	if c.TLS.CertFile == "" || c.TLS.KeyFile == "" || c.TLS.ClientCAFile == "" {
		errs = append(errs, errors.New("tls.cert_file, tls.key_file and tls.client_ca_file are required (the agent serves mutual TLS only)"))
	}
	if c.Heartbeat.Interval < 0 {
		errs = append(errs, fmt.Errorf("heartbeat.interval %v must be positive", c.Heartbeat.Interval))
	}
	if len(c.Heartbeat.Targets) > 0 && c.Heartbeat.Key == "" {
		errs = append(errs, errors.New("heartbeat.key is required to send heartbeats"))
	}
	return errors.Join(errs...)
}
