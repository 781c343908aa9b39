// Package noop is Octavia's noop amphora driver: it remembers what it was
// asked to run, per amphora, and runs nothing.
package noop

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/octavia-es/octavia-es/adapters/amphora"
	"github.com/octavia-es/octavia-es/adapters/noopkit"
	"github.com/octavia-es/octavia-es/events"
)

var (
	_ amphora.Driver          = (*Driver)(nil)
	_ amphora.AgentConfigurer = (*Driver)(nil)
)

// Operation names, as FailOn and Calls spell them.
const (
	OpUpdateConfig = "amphora.update_config"
	OpPlugVIP      = "amphora.plug_vip"
	OpGetInfo      = "amphora.get_info"
	// OpUpdateAgentConfig is UpdateAgentConfig.
	OpUpdateAgentConfig = "amphora.update_agent_config"
)

// Config configures the noop amphora driver.
type Config struct {
	// Faults: per-call delay and injected failures (tests, e2e).
	Faults noopkit.Config `yaml:",inline"`
}

// Driver is the noop amphora driver. Safe for concurrent use.
type Driver struct {
	rec *noopkit.Recorder

	mu      sync.Mutex
	configs map[string]amphora.Config // amphora id -> configuration running
	vips    map[string]amphora.VIP    // amphora id -> VIP plugged
	agents  map[string]amphora.AgentConfig
}

// New returns a noop amphora driver.
func New(cfg Config) (*Driver, error) {
	rec, err := noopkit.New("amphora", []string{"update_config", "plug_vip", "get_info", "update_agent_config", "rotate_certificate"}, cfg.Faults)
	if err != nil {
		return nil, err
	}
	return &Driver{rec: rec, configs: map[string]amphora.Config{}, vips: map[string]amphora.VIP{}, agents: map[string]amphora.AgentConfig{}}, nil
}

// UpdateConfig implements amphora.Driver.
func (d *Driver) UpdateConfig(ctx context.Context, amp events.Amphora, cfg amphora.Config) error {
	if err := d.rec.Do(ctx, "update_config", fmt.Sprintf("amphora=%s version=%d listeners=%d pools=%d members=%d healthmonitors=%d",
		amp.ID, cfg.Version, len(cfg.Listeners), len(cfg.Pools), len(cfg.Members), len(cfg.HealthMonitors))); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if cur, ok := d.configs[amp.ID]; ok && cur.Version > cfg.Version {
		return nil // stale push: keep the newer configuration
	}
	d.configs[amp.ID] = cfg
	return nil
}

// PlugVIP implements amphora.Driver.
func (d *Driver) PlugVIP(ctx context.Context, amp events.Amphora, vip amphora.VIP) error {
	if err := d.rec.Do(ctx, "plug_vip", fmt.Sprintf("amphora=%s address=%s", amp.ID, vip.Address)); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.vips[amp.ID] = vip
	return nil
}

// GetInfo implements amphora.Driver.
func (d *Driver) GetInfo(ctx context.Context, amp events.Amphora) (amphora.Info, error) {
	if err := d.rec.Do(ctx, "get_info", "amphora="+amp.ID); err != nil {
		return amphora.Info{}, err
	}
	return amphora.Info{Hostname: "amphora-" + amp.ID, HAProxyVersion: "noop", APIVersion: "1.0"}, nil
}

// UpdateAgentConfig implements amphora.AgentConfigurer: it remembers cfg.
func (d *Driver) UpdateAgentConfig(ctx context.Context, amp events.Amphora, cfg amphora.AgentConfig) error {
	if err := d.rec.Do(ctx, "update_agent_config", fmt.Sprintf("amphora=%s targets=%v interval=%s",
		amp.ID, cfg.HeartbeatTargets, cfg.HeartbeatInterval)); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.agents[amp.ID] = cfg
	return nil
}

// AgentConfig returns the agent configuration last pushed to an amphora.
func (d *Driver) AgentConfig(amphoraID string) (amphora.AgentConfig, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.agents[amphoraID]
	return c, ok
}

// Running returns the configuration an amphora was last given.
func (d *Driver) Running(amphoraID string) (amphora.Config, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.configs[amphoraID]
	return c, ok
}

// Plugged returns the VIP last plugged into an amphora.
func (d *Driver) Plugged(amphoraID string) (amphora.VIP, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.vips[amphoraID]
	return v, ok
}

// Calls returns every call recorded so far.
func (d *Driver) Calls() []noopkit.Call { return d.rec.Calls() }

// Count is the number of calls of op (OpUpdateConfig, ...).
func (d *Driver) Count(op string) int { return d.rec.Count(op) }

// FailOn makes every later call of op fail with err (noopkit.ErrInjected when nil).
func (d *Driver) FailOn(op string, err error) { d.rec.FailOn(op, err) }

// FailNext makes the next n calls of op fail.
func (d *Driver) FailNext(op string, n int, err error) { d.rec.FailNext(op, n, err) }

// ClearFailures removes every injected failure.
func (d *Driver) ClearFailures() { d.rec.ClearFailures() }

// SetDelay changes the delay added to every later call.
func (d *Driver) SetDelay(delay time.Duration) { d.rec.SetDelay(delay) }
