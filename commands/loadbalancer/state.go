// Package loadbalancer is the load balancer aggregate: one per load balancer
// graph (the LB with its listeners, pools, members and health monitors).
// Decide validates a command against the state and returns events; Evolve
// applies an event. Both are pure: no I/O, no clock (event time comes from
// the envelope).
package loadbalancer

import (
	"maps"
	"slices"
	"time"

	"github.com/octavia-es/octavia-es/events"
)

// Provisioning and operating statuses, as Octavia names them.
const (
	Active        = "ACTIVE"
	Deleted       = "DELETED"
	ErrorStatus   = "ERROR"
	PendingCreate = "PENDING_CREATE"
	PendingUpdate = "PENDING_UPDATE"
	PendingDelete = "PENDING_DELETE"

	Online    = "ONLINE"
	Offline   = "OFFLINE"
	Degraded  = "DEGRADED"
	NoMonitor = "NO_MONITOR"
	Draining  = "DRAINING"
)

// Node is one object of the graph: its spec plus what the events derived.
type Node[T any] struct {
	Spec               T
	ProvisioningStatus string
	OperatingStatus    string
	CreatedAt          time.Time
	UpdatedAt          *time.Time
}

// State is a load balancer graph folded from its stream. Evolve updates it
// in place: callers hand it over and use the returned value.
type State struct {
	ID      string // the load balancer's id; set by the loader even before the stream exists
	Version int64  // stream version of the last event applied
	Exists  bool   // a create was recorded
	Gone    bool   // LoadBalancerDeleted recorded (Octavia's DELETED, hidden from GET)

	LoadBalancer   Node[events.LoadBalancer]
	Listeners      map[string]*Node[events.Listener]
	Pools          map[string]*Node[events.Pool]
	Members        map[string]*Node[events.Member]
	HealthMonitors map[string]*Node[events.HealthMonitor]
	Amphorae       map[string]events.Amphora

	// Saga progress, derived from outcome events.
	Operation        string // create, update, delete, failover, or "" when idle
	VipAllocated     bool
	DeleteCascade    bool
	FailoverOld      []string // amphora ids to replace during a failover
	ErrorReason      string   // last failure reason
	AppliedVersion   int64    // stream version of the last configuration applied
	PendingChangesAt int64    // stream version of the oldest change not yet applied (0 = none)

	// PendingTargets are the ids of the objects the pending tenant change is
	// about (not the parents it merely locked): ConfigurationFailed puts
	// them in ERROR and returns the locked parents to ACTIVE, as Octavia's
	// *ToErrorOnRevertTask do. Cleared when the change settles.
	PendingTargets map[string]bool
	// LoadBalancerUpdated: the pending change is UpdateLoadBalancer (the
	// LB's own spec changed). Cleared when the change settles.
	LoadBalancerUpdated bool

	// AgentConfigPending are the amphorae (sorted ids) whose agent
	// configuration push was requested and has no outcome yet. Independent
	// of Operation: it locks nothing and changes no status.
	AgentConfigPending []string
}

// NewState returns the empty state of a load balancer that does not exist.
func NewState() State {
	return State{
		Listeners:      map[string]*Node[events.Listener]{},
		Pools:          map[string]*Node[events.Pool]{},
		Members:        map[string]*Node[events.Member]{},
		HealthMonitors: map[string]*Node[events.HealthMonitor]{},
		Amphorae:       map[string]events.Amphora{},
		PendingTargets: map[string]bool{},
	}
}

// NewStateFor returns the empty state of load balancer id, so that refusals
// can name it before its stream exists.
func NewStateFor(id string) State {
	s := NewState()
	s.ID = id
	return s
}

// Immutable reports whether the LB is locked (any PENDING_* status), as
// Octavia's _test_lb_and_listener_statuses does.
func (s State) Immutable() bool {
	switch s.LoadBalancer.ProvisioningStatus {
	case PendingCreate, PendingUpdate, PendingDelete:
		return true
	}
	return false
}

// PendingWork reports whether a saga still has work to do on this graph
// (an operation was requested and has not settled yet).
func (s State) PendingWork() bool { return s.Operation != "" }

// LoadBalancerID is the id of the load balancer, known or not.
func (s State) LoadBalancerID() string {
	if s.ID != "" {
		return s.ID
	}
	return s.LoadBalancer.Spec.ID
}

// Alive reports whether the load balancer exists and is not deleted.
func (s State) Alive() bool { return s.Exists && !s.Gone }

// PoolListeners returns the ids (sorted) of the listeners a pool serves:
// those whose default_pool_id names it, as Octavia's pool.listeners.
func (s State) PoolListeners(poolID string) []string {
	var ids []string
	for id, l := range s.Listeners {
		if l != nil && l.Spec.DefaultPoolID != nil && *l.Spec.DefaultPoolID == poolID {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// PoolHealthMonitor returns the health monitor of a pool, or nil.
func (s State) PoolHealthMonitor(poolID string) *Node[events.HealthMonitor] {
	for _, hm := range s.HealthMonitors {
		if hm != nil && hm.Spec.PoolID == poolID {
			return hm
		}
	}
	return nil
}

// PoolMembers returns the ids (sorted) of a pool's members.
func (s State) PoolMembers(poolID string) []string {
	var ids []string
	for id, m := range s.Members {
		if m != nil && m.Spec.PoolID == poolID {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Clone returns a copy of s that Evolve can update without touching s
// (maps and nodes are copied; specs are values whose slices and maps are
// never modified in place, so they are shared).
func (s State) Clone() State {
	c := s
	c.Listeners = cloneNodes(s.Listeners)
	c.Pools = cloneNodes(s.Pools)
	c.Members = cloneNodes(s.Members)
	c.HealthMonitors = cloneNodes(s.HealthMonitors)
	c.Amphorae = maps.Clone(s.Amphorae)
	if c.Amphorae == nil {
		c.Amphorae = map[string]events.Amphora{}
	}
	c.PendingTargets = maps.Clone(s.PendingTargets)
	if c.PendingTargets == nil {
		c.PendingTargets = map[string]bool{}
	}
	c.FailoverOld = slices.Clone(s.FailoverOld)
	c.AgentConfigPending = slices.Clone(s.AgentConfigPending)
	if s.LoadBalancer.UpdatedAt != nil {
		t := *s.LoadBalancer.UpdatedAt
		c.LoadBalancer.UpdatedAt = &t
	}
	return c
}

func cloneNodes[T any](m map[string]*Node[T]) map[string]*Node[T] {
	out := make(map[string]*Node[T], len(m))
	for k, n := range m {
		if n == nil {
			continue
		}
		cp := *n
		if n.UpdatedAt != nil {
			t := *n.UpdatedAt
			cp.UpdatedAt = &t
		}
		out[k] = &cp
	}
	return out
}
