// Package loadbalancer is the load balancer aggregate: one per load balancer
// graph (the LB with its listeners, pools, members and health monitors).
// Decide validates a command against the state and returns events; Evolve
// applies an event. Both are pure: no I/O, no clock (event time comes from
// the envelope).
package loadbalancer

import (
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
	Version int64 // stream version of the last event applied
	Exists  bool  // a create was recorded
	Gone    bool  // LoadBalancerDeleted recorded (Octavia's DELETED, hidden from GET)

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
}

// NewState returns the empty state of a load balancer that does not exist.
func NewState() State {
	return State{
		Listeners:      map[string]*Node[events.Listener]{},
		Pools:          map[string]*Node[events.Pool]{},
		Members:        map[string]*Node[events.Member]{},
		HealthMonitors: map[string]*Node[events.HealthMonitor]{},
		Amphorae:       map[string]events.Amphora{},
	}
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
