package loadbalancer

import (
	"reflect"

	"github.com/octavia-es/octavia-es/events"
)

// Decide validates cmd against s and returns the events that record it, or
// an *Error refusing it. Pure: s is never modified.
//
// Static validation (JSON types, ranges, enums, required fields, defaults)
// is the HTTP layer's; Decide checks what needs the graph, in the order
// Octavia's controllers do, so the first refusal is Octavia's: existence
// (404), graph-dependent validation (400), the load balancer's and the
// object's status (409 immutable), duplicates (409).
//
// Saga commands are idempotent: one that is already recorded (or no longer
// applies) returns no events and no error.
func Decide(s State, cmd Command) ([]events.Event, error) {
	switch c := deref(cmd).(type) {
	case CreateLoadBalancer:
		return decideCreateLoadBalancer(s, c)
	case UpdateLoadBalancer:
		return decideUpdateLoadBalancer(s, c)
	case DeleteLoadBalancer:
		return decideDeleteLoadBalancer(s, c)
	case FailoverLoadBalancer:
		return decideFailoverLoadBalancer(s)
	case CreateListener:
		return decideCreateListener(s, c)
	case UpdateListener:
		return decideUpdateListener(s, c)
	case DeleteListener:
		return decideDeleteListener(s, c)
	case CreatePool:
		return decideCreatePool(s, c)
	case UpdatePool:
		return decideUpdatePool(s, c)
	case DeletePool:
		return decideDeletePool(s, c)
	case CreateMember:
		return decideCreateMember(s, c)
	case UpdateMember:
		return decideUpdateMember(s, c)
	case DeleteMember:
		return decideDeleteMember(s, c)
	case BatchUpdateMembers:
		return decideBatchUpdateMembers(s, c)
	case CreateHealthMonitor:
		return decideCreateHealthMonitor(s, c)
	case UpdateHealthMonitor:
		return decideUpdateHealthMonitor(s, c)
	case DeleteHealthMonitor:
		return decideDeleteHealthMonitor(s, c)
	case RecordVipAllocated:
		return decideVipAllocated(s, c)
	case RecordVipReleased:
		return decideVipReleased(s, c)
	case RecordAmphoraBooted:
		return decideAmphoraBooted(s, c)
	case RecordAmphoraDeleted:
		return decideAmphoraDeleted(s, c)
	case RecordConfigurationApplied:
		return decideConfigurationApplied(s, c)
	case RecordConfigurationFailed:
		return decideConfigurationFailed(s, c)
	case ActivateLoadBalancer:
		return decideActivate(s)
	case FailProvisioning:
		return decideFailProvisioning(s, c)
	case RecordLoadBalancerDeleted:
		return decideLoadBalancerDeleted(s)
	case RecordOperatingStatuses:
		return decideOperatingStatuses(s, c)
	case UpdateAmphoraAgentConfig:
		return decideUpdateAgentConfig(s, c)
	case RecordAmphoraAgentConfigUpdated:
		return decideAgentConfigUpdated(s, c)
	case RecordAmphoraAgentConfigFailed:
		return decideAgentConfigFailed(s, c)
	case nil:
		return nil, refuse(Invalid, "no command")
	default:
		return nil, refuse(Invalid, "unknown command %T", cmd)
	}
}

// deref accepts pointers to commands as well as values.
func deref(cmd Command) Command {
	if cmd == nil {
		return nil
	}
	v := reflect.ValueOf(cmd)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		if c, ok := v.Elem().Interface().(Command); ok {
			return c
		}
	}
	return cmd
}

// --- checks shared by the child commands -------------------------------

// requireLoadBalancer: the load balancer exists and is not deleted.
func requireLoadBalancer(s State, id string) error {
	if id == "" {
		id = s.LoadBalancerID()
	}
	if !s.Alive() || id != s.LoadBalancerID() {
		return notFound(resLoadBalancer, id)
	}
	return nil
}

// requireMutable: a child change needs the load balancer ACTIVE
// (constants.MUTABLE_STATUSES), as test_and_set_lb_and_listeners_prov_status.
func requireMutable(s State) error {
	if s.LoadBalancer.ProvisioningStatus != Active {
		return immutableObject(resLoadBalancer, s.LoadBalancerID())
	}
	return nil
}

// requirePoolMutable: member and health monitor changes also need their
// pool ACTIVE (_test_lb_and_listener_and_pool_statuses), checked first.
func requirePoolMutable(s State, poolID string) error {
	if p := s.Pools[poolID]; p == nil || p.ProvisioningStatus != Active {
		return immutableObject(resPool, poolID)
	}
	return requireMutable(s)
}

// requireNotPending: an object being changed or deleted must be settled.
// Unreachable while the load balancer is ACTIVE (every change settles the
// whole graph), kept as a guard.
func requireNotPending(resource, id, status string) error {
	if isPending(status) {
		return immutableObject(resource, id)
	}
	return nil
}

func isPending(status string) bool {
	switch status {
	case PendingCreate, PendingUpdate, PendingDelete:
		return true
	}
	return false
}

// checkNewID: a created object needs a fresh id (the caller generates it).
func checkNewID(s State, id string) error {
	if id == "" {
		return validationFailure("Missing id for a new object.")
	}
	if idTaken(s, id) {
		return idAlreadyExists()
	}
	return nil
}

// idTaken reports whether id already names an object of the graph.
func idTaken(s State, id string) bool {
	if id == "" {
		return false
	}
	if s.LoadBalancerID() == id {
		return true
	}
	_, l := s.Listeners[id]
	_, p := s.Pools[id]
	_, m := s.Members[id]
	_, h := s.HealthMonitors[id]
	return l || p || m || h
}

func strOr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
