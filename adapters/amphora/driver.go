// Package amphora is the amphora capability as Octavia splits it
// (octavia/amphorae/drivers/driver_base.py): talk to the agent inside an
// amphora to plug the VIP and run the load balancer's configuration.
// Drivers live in sub-packages (noop, later one that calls the
// `octavia-es amphora-agent` REST API which renders and runs HAProxy) and
// all pass the suite in amphoratest.
//
// Unlike Octavia's per-listener calls, one call pushes the whole desired
// configuration of the load balancer: the agent converges to it, so a
// repeated or reordered push is harmless.
package amphora

import (
	"context"
	"time"

	"github.com/octavia-es/octavia-es/events"
)

// VIP is the load balancer's VIP as the amphora must configure it.
type VIP struct {
	Address    string
	PortID     string
	SubnetID   string
	NetworkID  string
	SubnetCIDR string // the VIP subnet's CIDR: gives the prefix length
	GatewayIP  string // "" = none
}

// Config is the whole desired configuration of a load balancer. Objects
// pending delete are already left out; admin_state_up is carried by the
// specs (a disabled object is rendered disabled, not dropped). Slices are
// sorted by id.
type Config struct {
	// Version is the stream version the configuration was rendered from.
	// An amphora already running a higher Version keeps it (a late, stale
	// push must not roll it back) and the call succeeds.
	Version        int64
	LoadBalancer   events.LoadBalancer
	Listeners      []events.Listener
	Pools          []events.Pool
	Members        []events.Member
	HealthMonitors []events.HealthMonitor
}

// Info is what an amphora's agent reports about itself (Octavia's get_info).
type Info struct {
	Hostname       string
	HAProxyVersion string
	APIVersion     string
}

// Driver is an amphora driver. All methods are safe for concurrent use and
// idempotent; the amphora is identified by its recorded id, compute id and
// lb network ip.
type Driver interface {
	// UpdateConfig makes the amphora run cfg (creating, changing and
	// removing listeners as needed).
	UpdateConfig(ctx context.Context, amp events.Amphora, cfg Config) error

	// PlugVIP configures the VIP inside the amphora.
	PlugVIP(ctx context.Context, amp events.Amphora, vip VIP) error

	// GetInfo asks the amphora's agent about itself; it is how a caller
	// waits for a booted amphora to answer.
	GetInfo(ctx context.Context, amp events.Amphora) (Info, error)
}

// AgentConfig is the part of an amphora agent's configuration the
// controller owns (Octavia's amphora-agent.conf rendered from
// [health_manager]): where heartbeats go, how often, and their HMAC key.
// What an operator changes by editing the controller's configuration and
// restarting it; UpdateAgentConfig pushes it to running amphorae.
type AgentConfig struct {
	HeartbeatTargets  []string // host:port of every health manager
	HeartbeatInterval time.Duration
	HeartbeatKey      string
}

// AgentConfigurer is the optional capability of a driver whose amphorae
// take a new agent configuration while running (Octavia's
// update_amphora_agent_config). The agent validates it, keeps it for its
// next start and applies what it can at once.
type AgentConfigurer interface {
	UpdateAgentConfig(ctx context.Context, amp events.Amphora, cfg AgentConfig) error
}
