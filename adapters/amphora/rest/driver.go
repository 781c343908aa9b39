// Package rest is the amphora driver that talks to the amphora agent's
// REST API over mutual TLS, as Octavia's amphora_haproxy_rest_driver: it
// renders a load balancer's HAProxy configuration on the controller,
// uploads it to the agent (which validates it with `haproxy -c`) and starts
// or reloads HAProxy there.
package rest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/octavia-es/octavia-es/adapters/amphora"
	"github.com/octavia-es/octavia-es/adapters/amphora/agent"
	"github.com/octavia-es/octavia-es/adapters/amphora/haproxy"
	"github.com/octavia-es/octavia-es/events"
)

var (
	_ amphora.Driver          = (*Driver)(nil)
	_ amphora.AgentConfigurer = (*Driver)(nil)
)

// Defaults.
const (
	// DefaultPort is the agent port of an amphora that records none
	// (Octavia's [haproxy_amphora] bind_port).
	DefaultPort = 9443
	// DefaultRequestTimeout bounds one call to an agent: an upload runs
	// `haproxy -c`, a start waits for HAProxy's first worker.
	DefaultRequestTimeout = 60 * time.Second
)

// Layout is where an agent keeps a load balancer's files, as the renderer
// writes them into the configuration: agent.ConfigPaths (relative to the
// load balancer's directory) and the agent's PING script.
type Layout struct {
	agent.Paths
	PingCommand string // the PING health monitors' external-check script
	// TLS are the TLS listeners' files, uploaded before.
	TLS TLSFiles
}

// Renderer renders a load balancer's configuration for one amphora.
type Renderer func(amp events.Amphora, cfg amphora.Config, files Layout) ([]byte, error)

// HAProxyRenderer renders with haproxy.Render: base holds the deployment's
// choices (log target, connection limits, user, ...); the amphora id and
// the file paths are filled in per amphora.
func HAProxyRenderer(base haproxy.Options) Renderer {
	return func(amp events.Amphora, cfg amphora.Config, files Layout) ([]byte, error) {
		opts := base
		opts.AmphoraID = amp.ID
		opts.StatsSocket = files.StatsSocket
		opts.StateFile = files.StateFile
		opts.PingCommand = files.PingCommand
		opts.Certificates, opts.SNICertificates = files.TLS.Certificates, files.TLS.SNICertificates
		opts.ClientCAs, opts.ClientCRLs = files.TLS.ClientCAs, files.TLS.ClientCRLs
		opts.PoolCertificates, opts.PoolCAs, opts.PoolCRLs = files.TLS.PoolCertificates, files.TLS.PoolCAs, files.TLS.PoolCRLs
		return haproxy.Render(cfg, opts)
	}
}

// Options configure the driver.
type Options struct {
	// ClientCert is the controller's certificate, issued by the CA the
	// agents trust (their client_ca_file).
	ClientCert tls.Certificate
	// RootCAs verifies the agents' certificates; an agent must present one
	// naming its amphora id (Octavia checks the hostname the same way).
	RootCAs *x509.CertPool
	// Render renders configurations (HAProxyRenderer in production).
	Render Renderer
	// Certificates resolves TLS listeners' certificate references
	// (Octavia's cert_manager); nil: such listeners cannot be rendered.
	Certificates CertificateSource
	// Port is the agent port of amphorae with no AgentPort; 0 = DefaultPort.
	Port int
	// RequestTimeout bounds each call; 0 = DefaultRequestTimeout.
	RequestTimeout time.Duration
	Log            *slog.Logger
}

// CertificateSource reads what TLS container references name
// (certificates/files.Manager): a listener's PEM bundle (certificate, key,
// intermediates), or a secret as it is (a client CA, a revocation list).
type CertificateSource interface {
	BundlePEM(ctx context.Context, ref string) ([]byte, error)
	GetSecret(ctx context.Context, ref string) ([]byte, error)
}

// Driver is the REST amphora driver. Safe for concurrent use.
type Driver struct {
	opts Options

	mu        sync.Mutex
	clients   map[clientKey]*client
	basePaths map[string]string // amphora id -> the agent's base_path
}

// New returns a driver.
func New(opts Options) (*Driver, error) {
	if opts.Render == nil {
		return nil, errors.New("rest amphora driver: no renderer")
	}
	if opts.RootCAs == nil || len(opts.ClientCert.Certificate) == 0 {
		return nil, errors.New("rest amphora driver: a client certificate and the agents' CA are required (mutual TLS)")
	}
	if opts.Port == 0 {
		opts.Port = DefaultPort
	}
	if opts.RequestTimeout == 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Driver{opts: opts, clients: map[clientKey]*client{}, basePaths: map[string]string{}}, nil
}

// UpdateConfig implements amphora.Driver: render, upload (the agent keeps
// a newer version it already has), then start HAProxy if it does not run,
// or reload it if the configuration changed; an unchanged configuration
// on a running HAProxy costs no reload.
func (d *Driver) UpdateConfig(ctx context.Context, amp events.Amphora, cfg amphora.Config) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := d.client(amp)
	if err != nil {
		return err
	}
	base, err := d.basePath(ctx, c, amp)
	if err != nil {
		return err
	}
	lbID := cfg.LoadBalancer.ID
	layout := Layout{Paths: agent.ConfigPaths(), PingCommand: agent.PingWrapperPath(base)}
	if layout.TLS, err = d.uploadCertificates(ctx, c, amp, cfg); err != nil {
		return err
	}
	// Sockets, state file and certificates relative to the directory
	// HAProxy runs in: absolute paths under base may be too long for unix
	// sockets.
	body, err := d.opts.Render(amp, cfg, layout)
	if err != nil {
		return fmt.Errorf("amphora %s: %w", amp.ID, err)
	}
	up, err := c.upload(ctx, amp.ID, lbID, cfg.Version, body)
	var stale *staleError
	if errors.As(err, &stale) {
		d.opts.Log.DebugContext(ctx, "amphora keeps a newer configuration", "amphora_id", amp.ID, "lb_id", lbID,
			"offered", cfg.Version, "running", stale.running)
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case !up.Running:
		return c.action(ctx, lbID, "start")
	case up.Changed:
		return c.action(ctx, lbID, "reload")
	}
	return nil
}

// PlugVIP implements amphora.Driver (Octavia's post_vip_plug).
func (d *Driver) PlugVIP(ctx context.Context, amp events.Amphora, vip amphora.VIP) error {
	c, err := d.client(amp)
	if err != nil {
		return err
	}
	var gateway *string
	if vip.GatewayIP != "" {
		gateway = &vip.GatewayIP
	}
	return c.plugVIP(ctx, vip.Address, map[string]any{
		"subnet_cidr": vip.SubnetCIDR, "gateway": gateway, "mac_address": "",
		"vrrp_ip": nil, "mtu": nil, "host_routes": []any{},
	})
}

// GetInfo implements amphora.Driver.
func (d *Driver) GetInfo(ctx context.Context, amp events.Amphora) (amphora.Info, error) {
	c, err := d.client(amp)
	if err != nil {
		return amphora.Info{}, err
	}
	info, err := c.info(ctx)
	if err != nil {
		return amphora.Info{}, err
	}
	d.rememberBase(amp.ID, info.BasePath)
	return amphora.Info{Hostname: info.Hostname, HAProxyVersion: info.HAProxyVersion, APIVersion: info.APIVersion}, nil
}

// UpdateAgentConfig implements amphora.AgentConfigurer (Octavia's
// update_amphora_agent_config): PUT /1.0/config with the heartbeat
// section of the agent's configuration; the agent rewrites its agent.yaml
// and applies it at once.
func (d *Driver) UpdateAgentConfig(ctx context.Context, amp events.Amphora, cfg amphora.AgentConfig) error {
	c, err := d.client(amp)
	if err != nil {
		return err
	}
	body, err := yaml.Marshal(agent.ConfigUpdate{AmphoraID: amp.ID, Heartbeat: &agent.HeartbeatConfig{
		Targets: cfg.HeartbeatTargets, Interval: cfg.HeartbeatInterval, Key: cfg.HeartbeatKey,
	}})
	if err != nil {
		return fmt.Errorf("amphora %s: agent configuration: %w", amp.ID, err)
	}
	return c.updateAgentConfig(ctx, body)
}

// basePath is where the agent keeps its files, asked once per amphora.
func (d *Driver) basePath(ctx context.Context, c *client, amp events.Amphora) (string, error) {
	d.mu.Lock()
	base, ok := d.basePaths[amp.ID]
	d.mu.Unlock()
	if ok {
		return base, nil
	}
	info, err := c.info(ctx)
	if err != nil {
		return "", err
	}
	if info.BasePath == "" {
		return "", fmt.Errorf("amphora %s: its agent does not report base_path", amp.ID)
	}
	d.rememberBase(amp.ID, info.BasePath)
	return info.BasePath, nil
}

func (d *Driver) rememberBase(ampID, base string) {
	if base == "" {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.basePaths) >= maxClients {
		clear(d.basePaths)
	}
	d.basePaths[ampID] = base
}

// clientKey: a connection is only reused for the same amphora at the same
// address (a port reused by a newer amphora gets its own TLS session,
// verified against its own id).
type clientKey struct{ ampID, addr string }

// maxClients bounds the cached clients; amphorae come and go (failover).
const maxClients = 1024

func (d *Driver) client(amp events.Amphora) (*client, error) {
	if amp.LBNetworkIP == nil || *amp.LBNetworkIP == "" {
		return nil, fmt.Errorf("amphora %s has no lb_network_ip", amp.ID)
	}
	port := amp.AgentPort
	if port == 0 {
		port = d.opts.Port
	}
	key := clientKey{amp.ID, net.JoinHostPort(*amp.LBNetworkIP, strconv.Itoa(port))}
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.clients[key]; ok {
		return c, nil
	}
	if len(d.clients) >= maxClients {
		for k, c := range d.clients {
			c.close()
			delete(d.clients, k)
		}
	}
	c := newClient(url.URL{Scheme: "https", Host: key.addr, Path: "/" + agent.APIVersion + "/"}, &tls.Config{
		Certificates: []tls.Certificate{d.opts.ClientCert},
		RootCAs:      d.opts.RootCAs,
		ServerName:   amp.ID,
		MinVersion:   tls.VersionTLS12,
	}, d.opts.RequestTimeout)
	d.clients[key] = c
	return c, nil
}
