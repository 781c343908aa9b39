package loadbalancer

import (
	"encoding/json"

	"github.com/octavia-es/octavia-es/events"
)

// Command is something a tenant (through the API) or a saga asks of a load
// balancer graph. Decide(state, cmd) accepts it as events or refuses it with
// an *Error.
type Command interface{ commandName() string }

// Patch is the JSON object of a PUT body (Octavia attribute names), already
// validated field by field by the HTTP layer. Decide merges it onto the
// current spec: a present key replaces the attribute, an absent key keeps it,
// a JSON null clears it.
type Patch map[string]json.RawMessage

// --- tenant commands ----------------------------------------------------

// CreateLoadBalancer: Spec is complete (ids, defaults filled by the caller).
// The optional parts make it Octavia's single-call ("fully populated")
// create: Vip is the VIP the API already allocated (recorded as
// VipAllocated in the same append, so the saga skips its allocation);
// Pools and Listeners are created with the load balancer, all or nothing,
// listeners referring to those pools by id.
type CreateLoadBalancer struct {
	Spec      events.LoadBalancer
	Vip       *events.VipAllocated
	Pools     []PoolGraph
	Listeners []events.Listener
}

// PoolGraph is a pool created together with its health monitor and members.
type PoolGraph struct {
	Spec          events.Pool
	HealthMonitor *events.HealthMonitor
	Members       []events.Member
}
type UpdateLoadBalancer struct{ Patch Patch }
type DeleteLoadBalancer struct{ Cascade bool }
type FailoverLoadBalancer struct{}

// CreateListener: with DefaultPool, the pool (with its monitor and members)
// is created in the same append and becomes the listener's default pool.
type CreateListener struct {
	Spec        events.Listener
	DefaultPool *PoolGraph
}
type UpdateListener struct {
	ListenerID string
	Patch      Patch
}
type DeleteListener struct{ ListenerID string }

// CreatePool: HealthMonitor and Members, when given, are created with the
// pool in the same append.
type CreatePool struct {
	Spec          events.Pool
	HealthMonitor *events.HealthMonitor
	Members       []events.Member
}
type UpdatePool struct {
	PoolID string
	Patch  Patch
}
type DeletePool struct{ PoolID string }

type CreateMember struct{ Spec events.Member }
type UpdateMember struct {
	PoolID   string
	MemberID string
	Patch    Patch
}
type DeleteMember struct {
	PoolID   string
	MemberID string
}

// BatchUpdateMembers is PUT /pools/{id}/members: Members is the desired set
// (complete specs with fresh ids for new ones; existing members are matched
// by address+protocol_port, as Octavia does). Without Additive, members not
// listed are deleted.
type BatchUpdateMembers struct {
	PoolID   string
	Members  []events.Member
	Additive bool
}

type CreateHealthMonitor struct{ Spec events.HealthMonitor }
type UpdateHealthMonitor struct {
	HealthMonitorID string
	Patch           Patch
}
type DeleteHealthMonitor struct{ HealthMonitorID string }

// UpdateAmphoraAgentConfig is PUT /v2/octavia/amphorae/{id}/config: push
// the controller's agent configuration to the amphora again. An operator
// action, not a tenant change: accepted whatever the provisioning status,
// it locks nothing.
type UpdateAmphoraAgentConfig struct{ AmphoraID string }

// --- saga commands: record a driver's outcome ---------------------------

type RecordVipAllocated struct{ Vip events.VipAllocated }
type RecordVipReleased struct{ VipPortID string }
type RecordAmphoraBooted struct{ Amphora events.Amphora }
type RecordAmphoraDeleted struct {
	AmphoraID string
	Reason    string
}

// RecordConfigurationApplied: the configuration rendered from the state at
// StreamVersion is live on the amphorae.
type RecordConfigurationApplied struct{ StreamVersion int64 }
type RecordConfigurationFailed struct {
	StreamVersion int64
	Reason        string
}
type ActivateLoadBalancer struct{}
type FailProvisioning struct {
	Step   string
	Reason string
}
type RecordLoadBalancerDeleted struct{}

// RecordAmphoraAgentConfigUpdated / RecordAmphoraAgentConfigFailed settle
// an UpdateAmphoraAgentConfig.
type RecordAmphoraAgentConfigUpdated struct{ AmphoraID string }
type RecordAmphoraAgentConfigFailed struct {
	AmphoraID string
	Reason    string
}
type RecordOperatingStatuses struct {
	Change events.OperatingStatusesChanged
}

func (CreateLoadBalancer) commandName() string         { return "CreateLoadBalancer" }
func (UpdateLoadBalancer) commandName() string         { return "UpdateLoadBalancer" }
func (DeleteLoadBalancer) commandName() string         { return "DeleteLoadBalancer" }
func (FailoverLoadBalancer) commandName() string       { return "FailoverLoadBalancer" }
func (CreateListener) commandName() string             { return "CreateListener" }
func (UpdateListener) commandName() string             { return "UpdateListener" }
func (DeleteListener) commandName() string             { return "DeleteListener" }
func (CreatePool) commandName() string                 { return "CreatePool" }
func (UpdatePool) commandName() string                 { return "UpdatePool" }
func (DeletePool) commandName() string                 { return "DeletePool" }
func (CreateMember) commandName() string               { return "CreateMember" }
func (UpdateMember) commandName() string               { return "UpdateMember" }
func (DeleteMember) commandName() string               { return "DeleteMember" }
func (BatchUpdateMembers) commandName() string         { return "BatchUpdateMembers" }
func (CreateHealthMonitor) commandName() string        { return "CreateHealthMonitor" }
func (UpdateHealthMonitor) commandName() string        { return "UpdateHealthMonitor" }
func (DeleteHealthMonitor) commandName() string        { return "DeleteHealthMonitor" }
func (RecordVipAllocated) commandName() string         { return "RecordVipAllocated" }
func (RecordVipReleased) commandName() string          { return "RecordVipReleased" }
func (RecordAmphoraBooted) commandName() string        { return "RecordAmphoraBooted" }
func (RecordAmphoraDeleted) commandName() string       { return "RecordAmphoraDeleted" }
func (RecordConfigurationApplied) commandName() string { return "RecordConfigurationApplied" }
func (RecordConfigurationFailed) commandName() string  { return "RecordConfigurationFailed" }
func (ActivateLoadBalancer) commandName() string       { return "ActivateLoadBalancer" }
func (FailProvisioning) commandName() string           { return "FailProvisioning" }
func (RecordLoadBalancerDeleted) commandName() string  { return "RecordLoadBalancerDeleted" }
func (RecordOperatingStatuses) commandName() string    { return "RecordOperatingStatuses" }
func (UpdateAmphoraAgentConfig) commandName() string   { return "UpdateAmphoraAgentConfig" }
func (RecordAmphoraAgentConfigUpdated) commandName() string {
	return "RecordAmphoraAgentConfigUpdated"
}
func (RecordAmphoraAgentConfigFailed) commandName() string {
	return "RecordAmphoraAgentConfigFailed"
}
