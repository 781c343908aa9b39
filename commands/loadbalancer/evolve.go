package loadbalancer

import (
	"maps"
	"reflect"
	"slices"
	"time"

	"github.com/octavia-es/octavia-es/events"
)

// Evolve applies one event (at stream version, recorded at time at) to s and
// returns the new state. It never fails: events are facts. It is the only
// place that derives provisioning and operating statuses.
//
// Tenant changes lock what Octavia's controllers lock: the load balancer
// always, the listeners served by a changed pool, the pool of a changed
// member or health monitor (all PENDING_UPDATE until the change settles).
// updated_at moves whenever a row would change in Octavia.
func Evolve(s State, version int64, at time.Time, e events.Event) State {
	s.ensureMaps()
	s.Version = version
	switch ev := derefEvent(e).(type) {
	case events.LoadBalancerCreateRequested:
		s.Exists, s.Gone = true, false
		if s.ID == "" {
			s.ID = ev.LoadBalancer.ID
		}
		s.LoadBalancer = Node[events.LoadBalancer]{
			Spec: ev.LoadBalancer, ProvisioningStatus: PendingCreate, OperatingStatus: Offline, CreatedAt: at,
		}
		s.Operation = "create"
		s.beginChange(version, s.LoadBalancerID())

	case events.LoadBalancerUpdateRequested:
		s.LoadBalancer.Spec = ev.LoadBalancer
		s.lockLoadBalancer(at)
		s.LoadBalancerUpdated = true
		s.beginChange(version, s.LoadBalancerID())

	case events.LoadBalancerDeleteRequested:
		setProvisioning(&s.LoadBalancer, PendingDelete, at)
		for _, n := range s.Listeners {
			setProvisioning(n, PendingDelete, at)
		}
		for _, n := range s.Pools {
			setProvisioning(n, PendingDelete, at)
		}
		for _, n := range s.Members {
			setProvisioning(n, PendingDelete, at)
		}
		for _, n := range s.HealthMonitors {
			setProvisioning(n, PendingDelete, at)
		}
		s.Operation = "delete"
		s.DeleteCascade = ev.Cascade
		s.beginChange(version, s.LoadBalancerID())

	case events.LoadBalancerFailoverRequested:
		setProvisioning(&s.LoadBalancer, PendingUpdate, at)
		s.Operation = "failover"
		s.FailoverOld = slices.Sorted(maps.Keys(s.Amphorae))

	case events.ListenerCreateRequested:
		s.Listeners[ev.Listener.ID] = &Node[events.Listener]{
			Spec: ev.Listener, ProvisioningStatus: PendingCreate, OperatingStatus: Offline, CreatedAt: at,
		}
		s.lockLoadBalancer(at)
		s.beginChange(version, ev.Listener.ID)

	case events.ListenerUpdateRequested:
		if n := s.Listeners[ev.Listener.ID]; n != nil {
			old := strOr(n.Spec.DefaultPoolID)
			n.Spec = ev.Listener
			setProvisioning(n, PendingUpdate, at)
			touch(n, at)
			if old != "" && old != strOr(ev.Listener.DefaultPoolID) {
				s.unlinkPoolFromListener(old, ev.Listener.ID)
			}
		}
		s.lockLoadBalancer(at)
		s.beginChange(version, ev.Listener.ID)

	case events.ListenerDeleteRequested:
		if n := s.Listeners[ev.ListenerID]; n != nil {
			setProvisioning(n, PendingDelete, at)
		}
		s.lockLoadBalancer(at)
		s.beginChange(version, ev.ListenerID)

	case events.PoolCreateRequested:
		s.Pools[ev.Pool.ID] = &Node[events.Pool]{
			Spec: ev.Pool, ProvisioningStatus: PendingCreate, OperatingStatus: Offline, CreatedAt: at,
		}
		if l := s.Listeners[ev.Pool.ListenerID]; ev.Pool.ListenerID != "" && l != nil {
			id := ev.Pool.ID
			l.Spec.DefaultPoolID = &id
			setProvisioning(l, PendingUpdate, at)
			touch(l, at)
		}
		s.lockLoadBalancer(at)
		s.beginChange(version, ev.Pool.ID)

	case events.PoolUpdateRequested:
		if n := s.Pools[ev.Pool.ID]; n != nil {
			n.Spec = ev.Pool
			setProvisioning(n, PendingUpdate, at)
			touch(n, at)
		}
		s.lockPoolListeners(ev.Pool.ID, at)
		s.lockLoadBalancer(at)
		s.beginChange(version, ev.Pool.ID)

	case events.PoolDeleteRequested:
		if n := s.Pools[ev.PoolID]; n != nil {
			setProvisioning(n, PendingDelete, at)
		}
		s.lockPoolListeners(ev.PoolID, at)
		s.lockLoadBalancer(at)
		s.beginChange(version, ev.PoolID)

	case events.MemberCreateRequested:
		s.Members[ev.Member.ID] = s.newMember(ev.Member, at)
		s.lockPool(ev.Member.PoolID, at)
		s.beginChange(version, ev.Member.ID)

	case events.MemberUpdateRequested:
		if n := s.Members[ev.Member.ID]; n != nil {
			n.Spec = ev.Member
			setProvisioning(n, PendingUpdate, at)
			touch(n, at)
		}
		s.lockPool(ev.Member.PoolID, at)
		s.beginChange(version, ev.Member.ID)

	case events.MemberDeleteRequested:
		if n := s.Members[ev.MemberID]; n != nil {
			setProvisioning(n, PendingDelete, at)
		}
		s.lockPool(ev.PoolID, at)
		s.beginChange(version, ev.MemberID)

	case events.MembersBatchUpdateRequested:
		var ids []string
		for _, m := range ev.Created {
			s.Members[m.ID] = s.newMember(m, at)
			ids = append(ids, m.ID)
		}
		for _, m := range ev.Updated {
			if n := s.Members[m.ID]; n != nil {
				n.Spec = m
				setProvisioning(n, PendingUpdate, at)
				touch(n, at)
				ids = append(ids, m.ID)
			}
		}
		for _, id := range ev.Deleted {
			if n := s.Members[id]; n != nil {
				setProvisioning(n, PendingDelete, at)
				ids = append(ids, id)
			}
		}
		s.lockPool(ev.PoolID, at)
		s.beginChange(version, ids...)

	case events.HealthMonitorCreateRequested:
		s.HealthMonitors[ev.HealthMonitor.ID] = &Node[events.HealthMonitor]{
			Spec: ev.HealthMonitor, ProvisioningStatus: PendingCreate, OperatingStatus: Offline, CreatedAt: at,
		}
		s.lockPool(ev.HealthMonitor.PoolID, at)
		s.beginChange(version, ev.HealthMonitor.ID)

	case events.HealthMonitorUpdateRequested:
		if n := s.HealthMonitors[ev.HealthMonitor.ID]; n != nil {
			n.Spec = ev.HealthMonitor
			setProvisioning(n, PendingUpdate, at)
			touch(n, at)
		}
		s.lockPool(ev.HealthMonitor.PoolID, at)
		s.beginChange(version, ev.HealthMonitor.ID)

	case events.HealthMonitorDeleteRequested:
		if n := s.HealthMonitors[ev.HealthMonitorID]; n != nil {
			setProvisioning(n, PendingDelete, at)
		}
		s.lockPool(ev.PoolID, at)
		s.beginChange(version, ev.HealthMonitorID)

	case events.VipAllocated:
		s.VipAllocated = true
		sp := &s.LoadBalancer.Spec
		sp.VipAddress = nonEmpty(ev.VipAddress, sp.VipAddress)
		sp.VipPortID = nonEmpty(ev.VipPortID, sp.VipPortID)
		sp.VipSubnetID = nonEmpty(ev.VipSubnetID, sp.VipSubnetID)
		sp.VipNetworkID = nonEmpty(ev.VipNetworkID, sp.VipNetworkID)

	case events.VipReleased:
		s.VipAllocated = false

	case events.AmphoraBooted:
		s.Amphorae[ev.Amphora.ID] = ev.Amphora

	case events.AmphoraDeleted:
		delete(s.Amphorae, ev.AmphoraID)
		s.FailoverOld = slices.DeleteFunc(slices.Clone(s.FailoverOld), func(id string) bool { return id == ev.AmphoraID })
		if len(s.FailoverOld) == 0 {
			s.FailoverOld = nil
		}
		s.AgentConfigPending = withoutID(s.AgentConfigPending, ev.AmphoraID)

	case events.AmphoraAgentConfigUpdateRequested:
		if _, known := s.Amphorae[ev.AmphoraID]; known && !slices.Contains(s.AgentConfigPending, ev.AmphoraID) {
			s.AgentConfigPending = slices.Sorted(slices.Values(append(slices.Clone(s.AgentConfigPending), ev.AmphoraID)))
		}

	case events.AmphoraAgentConfigUpdated:
		s.AgentConfigPending = withoutID(s.AgentConfigPending, ev.AmphoraID)

	case events.AmphoraAgentConfigUpdateFailed:
		s.AgentConfigPending = withoutID(s.AgentConfigPending, ev.AmphoraID)

	case events.ConfigurationApplied:
		s.settle(at)
		s.AppliedVersion = ev.StreamVersion

	case events.LoadBalancerActivated:
		s.settle(at)

	case events.ConfigurationFailed:
		s.failChange(at)
		s.ErrorReason = ev.Reason

	case events.LoadBalancerProvisioningFailed:
		s.failProvisioning(at)
		s.ErrorReason = ev.Reason

	case events.LoadBalancerDeleted:
		s.Gone = true
		setProvisioning(&s.LoadBalancer, Deleted, at)
		clear(s.Listeners)
		clear(s.Pools)
		clear(s.Members)
		clear(s.HealthMonitors)
		s.AgentConfigPending = nil
		s.endChange()

	case events.OperatingStatusesChanged:
		if ev.LoadBalancer != "" {
			setOperating(&s.LoadBalancer, ev.LoadBalancer, at)
		}
		applyOperating(s.Listeners, ev.Listeners, at)
		applyOperating(s.Pools, ev.Pools, at)
		applyOperating(s.Members, ev.Members, at)
		applyOperating(s.HealthMonitors, ev.HealthMonitors, at)
	}
	return s
}

// withoutID returns ids without id, nil when empty; ids is not modified
// (states share it with their clones until Clone copies it).
func withoutID(ids []string, id string) []string {
	out := slices.DeleteFunc(slices.Clone(ids), func(x string) bool { return x == id })
	if len(out) == 0 {
		return nil
	}
	return out
}

// derefEvent accepts pointers to payloads as well as values.
func derefEvent(e events.Event) events.Event {
	if e == nil {
		return nil
	}
	v := reflect.ValueOf(e)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		if ev, ok := v.Elem().Interface().(events.Event); ok {
			return ev
		}
	}
	return e
}

func nonEmpty(v string, cur *string) *string {
	if v == "" {
		return cur
	}
	return &v
}
