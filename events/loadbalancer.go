package events

// Every event of a load balancer graph lives in the load balancer's stream
// (StreamFor): the load balancer is the unit of consistency, so Octavia's
// "any child change locks the whole load balancer" is one optimistic check.
//
// Tenant intent is recorded as *Requested events (accepted by decide, the
// object enters PENDING_*); the sagas record outcomes (VipAllocated,
// AmphoraBooted, ConfigurationApplied, ...), which move objects out of
// PENDING_* to ACTIVE, ERROR or gone. Names are stable: never rename one.

// StreamPrefix starts every load balancer stream name.
const StreamPrefix = "loadbalancer-"

// StreamFor is the stream of a load balancer graph.
func StreamFor(loadBalancerID string) string { return StreamPrefix + loadBalancerID }

// Amphora is an amphora as recorded when it booted.
type Amphora struct {
	ID             string  `json:"id"`
	LoadBalancerID string  `json:"loadbalancer_id"`
	ComputeID      string  `json:"compute_id"`
	Role           string  `json:"role"`
	LBNetworkIP    *string `json:"lb_network_ip"`
	VRRPIP         *string `json:"vrrp_ip"`
	HAIP           *string `json:"ha_ip"`
	VRRPPortID     *string `json:"vrrp_port_id"`
	HAPortID       *string `json:"ha_port_id"`
	ComputeFlavor  *string `json:"compute_flavor"`
	ImageID        *string `json:"image_id"`
	ComputeDriver  string  `json:"compute_driver"`
	NetworkDriver  string  `json:"network_driver"`
	AmphoraDriver  string  `json:"amphora_driver"`
	// AgentPort is the amphora agent's API port on LBNetworkIP (0: the
	// amphora driver's default port).
	AgentPort int `json:"agent_port,omitempty"`
}

// --- tenant intent -------------------------------------------------------

type LoadBalancerCreateRequested struct {
	LoadBalancer LoadBalancer `json:"loadbalancer"`
}

type LoadBalancerUpdateRequested struct {
	LoadBalancer LoadBalancer `json:"loadbalancer"` // the whole spec after the update
}

type LoadBalancerDeleteRequested struct {
	LoadBalancerID string `json:"loadbalancer_id"`
	Cascade        bool   `json:"cascade"`
}

type LoadBalancerFailoverRequested struct {
	LoadBalancerID string `json:"loadbalancer_id"`
}

type ListenerCreateRequested struct {
	Listener Listener `json:"listener"`
}

type ListenerUpdateRequested struct {
	Listener Listener `json:"listener"` // the whole spec after the update
}

type ListenerDeleteRequested struct {
	LoadBalancerID string `json:"loadbalancer_id"`
	ListenerID     string `json:"listener_id"`
}

type PoolCreateRequested struct {
	Pool Pool `json:"pool"`
}

type PoolUpdateRequested struct {
	Pool Pool `json:"pool"`
}

type PoolDeleteRequested struct {
	LoadBalancerID string `json:"loadbalancer_id"`
	PoolID         string `json:"pool_id"`
}

type MemberCreateRequested struct {
	LoadBalancerID string `json:"loadbalancer_id"`
	Member         Member `json:"member"`
}

type MemberUpdateRequested struct {
	LoadBalancerID string `json:"loadbalancer_id"`
	Member         Member `json:"member"`
}

type MemberDeleteRequested struct {
	LoadBalancerID string `json:"loadbalancer_id"`
	PoolID         string `json:"pool_id"`
	MemberID       string `json:"member_id"`
}

// MembersBatchUpdateRequested is PUT /pools/{id}/members: one event so the
// whole batch is accepted or refused together.
type MembersBatchUpdateRequested struct {
	LoadBalancerID string   `json:"loadbalancer_id"`
	PoolID         string   `json:"pool_id"`
	Created        []Member `json:"created"`
	Updated        []Member `json:"updated"`
	Deleted        []string `json:"deleted"`
}

type HealthMonitorCreateRequested struct {
	LoadBalancerID string        `json:"loadbalancer_id"`
	HealthMonitor  HealthMonitor `json:"healthmonitor"`
}

type HealthMonitorUpdateRequested struct {
	LoadBalancerID string        `json:"loadbalancer_id"`
	HealthMonitor  HealthMonitor `json:"healthmonitor"`
}

type HealthMonitorDeleteRequested struct {
	LoadBalancerID  string `json:"loadbalancer_id"`
	PoolID          string `json:"pool_id"`
	HealthMonitorID string `json:"healthmonitor_id"`
}

// AmphoraAgentConfigUpdateRequested: an operator asked for the amphora
// agent's configuration to be pushed again (PUT
// /v2/octavia/amphorae/{id}/config). Not a tenant change: it locks
// nothing. The configuration itself (heartbeat targets, interval, HMAC
// key) is rendered from the controller's configuration when it is pushed
// and never recorded: the key is a secret.
type AmphoraAgentConfigUpdateRequested struct {
	LoadBalancerID string `json:"loadbalancer_id"`
	AmphoraID      string `json:"amphora_id"`
}

// --- saga outcomes ------------------------------------------------------

// VipAllocated: the network driver reserved the VIP.
type VipAllocated struct {
	LoadBalancerID string `json:"loadbalancer_id"`
	VipAddress     string `json:"vip_address"`
	VipPortID      string `json:"vip_port_id"`
	VipSubnetID    string `json:"vip_subnet_id"`
	VipNetworkID   string `json:"vip_network_id"`
}

// VipReleased: the network driver freed the VIP (delete or compensation).
type VipReleased struct {
	LoadBalancerID string `json:"loadbalancer_id"`
	VipPortID      string `json:"vip_port_id"`
}

// AmphoraBooted: the compute driver started an amphora and it answered.
type AmphoraBooted struct {
	LoadBalancerID string  `json:"loadbalancer_id"`
	Amphora        Amphora `json:"amphora"`
}

// AmphoraDeleted: the compute driver removed an amphora.
type AmphoraDeleted struct {
	LoadBalancerID string `json:"loadbalancer_id"`
	AmphoraID      string `json:"amphora_id"`
	Reason         string `json:"reason,omitempty"`
}

// AmphoraAgentConfigUpdated: the amphora's agent took the configuration
// pushed after an AmphoraAgentConfigUpdateRequested.
type AmphoraAgentConfigUpdated struct {
	LoadBalancerID string `json:"loadbalancer_id"`
	AmphoraID      string `json:"amphora_id"`
}

// AmphoraAgentConfigUpdateFailed: the push failed (Reason says why). No
// status changes: the agent keeps running its previous configuration.
type AmphoraAgentConfigUpdateFailed struct {
	LoadBalancerID string `json:"loadbalancer_id"`
	AmphoraID      string `json:"amphora_id"`
	Reason         string `json:"reason"`
}

// ConfigurationApplied: the amphora driver pushed the graph's configuration;
// every PENDING_* object of the graph is settled (created/updated → ACTIVE,
// deleted → gone) and the load balancer is ACTIVE. Position is the stream
// version the applied configuration was rendered from.
type ConfigurationApplied struct {
	LoadBalancerID string `json:"loadbalancer_id"`
	StreamVersion  int64  `json:"stream_version"`
}

// ConfigurationFailed: applying a child change failed. As in Octavia, the
// pending children go to ERROR and the load balancer returns to ACTIVE.
type ConfigurationFailed struct {
	LoadBalancerID string `json:"loadbalancer_id"`
	StreamVersion  int64  `json:"stream_version"`
	Reason         string `json:"reason"`
}

// LoadBalancerActivated: create, update or failover finished; LB ACTIVE.
type LoadBalancerActivated struct {
	LoadBalancerID string `json:"loadbalancer_id"`
}

// LoadBalancerProvisioningFailed: create, update, delete or failover failed
// after compensation; the load balancer is in ERROR with Reason.
type LoadBalancerProvisioningFailed struct {
	LoadBalancerID string `json:"loadbalancer_id"`
	Operation      string `json:"operation"` // create, update, delete, failover
	Step           string `json:"step"`
	Reason         string `json:"reason"`
}

// LoadBalancerDeleted: every resource is released; the graph is gone.
type LoadBalancerDeleted struct {
	LoadBalancerID string `json:"loadbalancer_id"`
}

// OperatingStatusesChanged: the health manager (or a provider driver) saw
// operating statuses change. Only changed entries are listed.
type OperatingStatusesChanged struct {
	LoadBalancerID string            `json:"loadbalancer_id"`
	LoadBalancer   string            `json:"loadbalancer,omitempty"`
	Listeners      map[string]string `json:"listeners,omitempty"`
	Pools          map[string]string `json:"pools,omitempty"`
	Members        map[string]string `json:"members,omitempty"`
	HealthMonitors map[string]string `json:"healthmonitors,omitempty"`
}

func (LoadBalancerCreateRequested) EventType() string   { return "loadbalancer.create_requested" }
func (LoadBalancerUpdateRequested) EventType() string   { return "loadbalancer.update_requested" }
func (LoadBalancerDeleteRequested) EventType() string   { return "loadbalancer.delete_requested" }
func (LoadBalancerFailoverRequested) EventType() string { return "loadbalancer.failover_requested" }
func (ListenerCreateRequested) EventType() string       { return "listener.create_requested" }
func (ListenerUpdateRequested) EventType() string       { return "listener.update_requested" }
func (ListenerDeleteRequested) EventType() string       { return "listener.delete_requested" }
func (PoolCreateRequested) EventType() string           { return "pool.create_requested" }
func (PoolUpdateRequested) EventType() string           { return "pool.update_requested" }
func (PoolDeleteRequested) EventType() string           { return "pool.delete_requested" }
func (MemberCreateRequested) EventType() string         { return "member.create_requested" }
func (MemberUpdateRequested) EventType() string         { return "member.update_requested" }
func (MemberDeleteRequested) EventType() string         { return "member.delete_requested" }
func (MembersBatchUpdateRequested) EventType() string   { return "member.batch_update_requested" }
func (HealthMonitorCreateRequested) EventType() string  { return "healthmonitor.create_requested" }
func (HealthMonitorUpdateRequested) EventType() string  { return "healthmonitor.update_requested" }
func (HealthMonitorDeleteRequested) EventType() string  { return "healthmonitor.delete_requested" }
func (VipAllocated) EventType() string                  { return "loadbalancer.vip_allocated" }
func (VipReleased) EventType() string                   { return "loadbalancer.vip_released" }
func (AmphoraBooted) EventType() string                 { return "amphora.booted" }
func (AmphoraDeleted) EventType() string                { return "amphora.deleted" }
func (ConfigurationApplied) EventType() string          { return "loadbalancer.configuration_applied" }
func (ConfigurationFailed) EventType() string           { return "loadbalancer.configuration_failed" }
func (LoadBalancerActivated) EventType() string         { return "loadbalancer.activated" }
func (LoadBalancerProvisioningFailed) EventType() string {
	return "loadbalancer.provisioning_failed"
}
func (LoadBalancerDeleted) EventType() string      { return "loadbalancer.deleted" }
func (OperatingStatusesChanged) EventType() string { return "loadbalancer.operating_statuses_changed" }
func (AmphoraAgentConfigUpdateRequested) EventType() string {
	return "amphora.agent_config_update_requested"
}
func (AmphoraAgentConfigUpdated) EventType() string { return "amphora.agent_config_updated" }
func (AmphoraAgentConfigUpdateFailed) EventType() string {
	return "amphora.agent_config_update_failed"
}

type registered struct {
	event         Event
	schemaVersion int
}

// allEvents lists every payload type with its current schema version.
func allEvents() []registered {
	return []registered{
		{LoadBalancerCreateRequested{}, 1}, {LoadBalancerUpdateRequested{}, 1},
		{LoadBalancerDeleteRequested{}, 1}, {LoadBalancerFailoverRequested{}, 1},
		{ListenerCreateRequested{}, 1}, {ListenerUpdateRequested{}, 1}, {ListenerDeleteRequested{}, 1},
		{PoolCreateRequested{}, 1}, {PoolUpdateRequested{}, 1}, {PoolDeleteRequested{}, 1},
		{MemberCreateRequested{}, 1}, {MemberUpdateRequested{}, 1}, {MemberDeleteRequested{}, 1},
		{MembersBatchUpdateRequested{}, 1},
		{HealthMonitorCreateRequested{}, 1}, {HealthMonitorUpdateRequested{}, 1}, {HealthMonitorDeleteRequested{}, 1},
		{VipAllocated{}, 1}, {VipReleased{}, 1}, {AmphoraBooted{}, 1}, {AmphoraDeleted{}, 1},
		{ConfigurationApplied{}, 1}, {ConfigurationFailed{}, 1},
		{LoadBalancerActivated{}, 1}, {LoadBalancerProvisioningFailed{}, 1}, {LoadBalancerDeleted{}, 1},
		{OperatingStatusesChanged{}, 1},
		{AmphoraAgentConfigUpdateRequested{}, 1}, {AmphoraAgentConfigUpdated{}, 1}, {AmphoraAgentConfigUpdateFailed{}, 1},
	}
}
