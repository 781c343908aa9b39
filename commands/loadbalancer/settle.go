package loadbalancer

import (
	"time"

	"github.com/octavia-es/octavia-es/events"
)

// Status bookkeeping used by Evolve.

func (s *State) ensureMaps() {
	if s.Listeners == nil {
		s.Listeners = map[string]*Node[events.Listener]{}
	}
	if s.Pools == nil {
		s.Pools = map[string]*Node[events.Pool]{}
	}
	if s.Members == nil {
		s.Members = map[string]*Node[events.Member]{}
	}
	if s.HealthMonitors == nil {
		s.HealthMonitors = map[string]*Node[events.HealthMonitor]{}
	}
	if s.Amphorae == nil {
		s.Amphorae = map[string]events.Amphora{}
	}
	if s.PendingTargets == nil {
		s.PendingTargets = map[string]bool{}
	}
}

// beginChange records a tenant change: the operation (update unless one is
// already under way), the oldest unapplied version and its targets.
func (s *State) beginChange(version int64, targets ...string) {
	if s.Operation == "" {
		s.Operation = "update"
	}
	if s.PendingChangesAt == 0 {
		s.PendingChangesAt = version
	}
	for _, id := range targets {
		s.PendingTargets[id] = true
	}
}

// endChange: the operation settled (applied, failed or deleted).
func (s *State) endChange() {
	s.Operation = ""
	s.PendingChangesAt = 0
	clear(s.PendingTargets)
	s.LoadBalancerUpdated = false
}

// lockLoadBalancer puts the load balancer in PENDING_UPDATE (a child or
// its own spec changed). Children created with the load balancer (a
// single-call create) leave it as it is: its row is new, not updated.
func (s *State) lockLoadBalancer(at time.Time) {
	if s.LoadBalancer.ProvisioningStatus == PendingCreate {
		return
	}
	lock(&s.LoadBalancer, at)
	touch(&s.LoadBalancer, at)
}

// lockPool locks a pool, the listeners it serves and the load balancer
// (member and health monitor changes).
func (s *State) lockPool(poolID string, at time.Time) {
	if p := s.Pools[poolID]; p != nil {
		lock(p, at)
	}
	s.lockPoolListeners(poolID, at)
	s.lockLoadBalancer(at)
}

func (s *State) lockPoolListeners(poolID string, at time.Time) {
	for _, id := range s.PoolListeners(poolID) {
		lock(s.Listeners[id], at)
	}
}

// unlinkPoolFromListener forgets that a pool was created for a listener
// once the listener stops using it.
func (s *State) unlinkPoolFromListener(poolID, listenerID string) {
	if p := s.Pools[poolID]; p != nil && p.Spec.ListenerID == listenerID {
		p.Spec.ListenerID = ""
	}
}

// newMember is a member as db_prepare.create_member makes it: OFFLINE if
// its pool has a health monitor, NO_MONITOR otherwise.
func (s *State) newMember(m events.Member, at time.Time) *Node[events.Member] {
	op := NoMonitor
	if s.PoolHealthMonitor(m.PoolID) != nil {
		op = Offline
	}
	return &Node[events.Member]{Spec: m, ProvisioningStatus: PendingCreate, OperatingStatus: op, CreatedAt: at}
}

// settle is the end of a successful operation (ConfigurationApplied,
// LoadBalancerActivated): created and updated objects become ACTIVE,
// deleted ones disappear with their dependents, the load balancer is
// ACTIVE. Health monitors go ONLINE (OFFLINE when disabled), and removing
// one turns its pool's members NO_MONITOR, as Octavia's flows do.
func (s *State) settle(at time.Time) {
	for id, hm := range s.HealthMonitors {
		switch hm.ProvisioningStatus {
		case PendingDelete:
			delete(s.HealthMonitors, id)
			for _, mid := range s.PoolMembers(hm.Spec.PoolID) {
				setOperating(s.Members[mid], NoMonitor, at)
			}
		case PendingCreate, PendingUpdate:
			setProvisioning(hm, Active, at)
			op := Online
			if !hm.Spec.AdminStateUp {
				op = Offline
			}
			setOperating(hm, op, at)
		}
	}
	for id, p := range s.Pools {
		switch p.ProvisioningStatus {
		case PendingDelete:
			s.removePool(id, at)
		case PendingCreate, PendingUpdate:
			setProvisioning(p, Active, at)
		}
	}
	for id, l := range s.Listeners {
		switch l.ProvisioningStatus {
		case PendingDelete:
			s.removeListener(id)
		case PendingCreate, PendingUpdate:
			setProvisioning(l, Active, at)
		}
	}
	for id, m := range s.Members {
		switch m.ProvisioningStatus {
		case PendingDelete:
			delete(s.Members, id)
		case PendingCreate, PendingUpdate:
			setProvisioning(m, Active, at)
		}
	}
	switch s.LoadBalancer.ProvisioningStatus {
	case PendingCreate, PendingUpdate:
		setProvisioning(&s.LoadBalancer, Active, at)
	}
	s.endChange()
}

// removePool deletes a pool with its members and health monitor and clears
// the default_pool_id of the listeners that used it.
func (s *State) removePool(id string, at time.Time) {
	delete(s.Pools, id)
	for mid, m := range s.Members {
		if m.Spec.PoolID == id {
			delete(s.Members, mid)
		}
	}
	for hid, hm := range s.HealthMonitors {
		if hm.Spec.PoolID == id {
			delete(s.HealthMonitors, hid)
		}
	}
	for _, l := range s.Listeners {
		if strOr(l.Spec.DefaultPoolID) == id {
			l.Spec.DefaultPoolID = nil
			touch(l, at)
		}
	}
}

// removeListener deletes a listener; its default pool stays, unlinked.
func (s *State) removeListener(id string) {
	delete(s.Listeners, id)
	for _, p := range s.Pools {
		if p.Spec.ListenerID == id {
			p.Spec.ListenerID = ""
		}
	}
}

// failChange is ConfigurationFailed: as Octavia's *ToErrorOnRevertTask,
// the objects the change was about go to ERROR, the parents it locked go
// back to ACTIVE, and so does the load balancer unless its own update
// failed.
func (s *State) failChange(at time.Time) {
	all := len(s.PendingTargets) == 0
	outcome := func(id string) string {
		if all || s.PendingTargets[id] {
			return ErrorStatus
		}
		return Active
	}
	failNodes(s.Listeners, outcome, at)
	failNodes(s.Pools, outcome, at)
	failNodes(s.Members, outcome, at)
	failNodes(s.HealthMonitors, outcome, at)
	if isPending(s.LoadBalancer.ProvisioningStatus) {
		st := Active
		if s.LoadBalancerUpdated || s.PendingTargets[s.LoadBalancerID()] {
			st = ErrorStatus
		}
		setProvisioning(&s.LoadBalancer, st, at)
	}
	s.endChange()
}

// failProvisioning is LoadBalancerProvisioningFailed: the load balancer and
// every pending object go to ERROR.
func (s *State) failProvisioning(at time.Time) {
	toError := func(string) string { return ErrorStatus }
	failNodes(s.Listeners, toError, at)
	failNodes(s.Pools, toError, at)
	failNodes(s.Members, toError, at)
	failNodes(s.HealthMonitors, toError, at)
	setProvisioning(&s.LoadBalancer, ErrorStatus, at)
	s.endChange()
}

func failNodes[T any](nodes map[string]*Node[T], outcome func(id string) string, at time.Time) {
	for id, n := range nodes {
		if isPending(n.ProvisioningStatus) {
			setProvisioning(n, outcome(id), at)
		}
	}
}

func applyOperating[T any](nodes map[string]*Node[T], statuses map[string]string, at time.Time) {
	for id, st := range statuses {
		if n := nodes[id]; n != nil && st != "" {
			setOperating(n, st, at)
		}
	}
}

// lock puts a parent in PENDING_UPDATE unless it is being created or
// deleted itself.
func lock[T any](n *Node[T], at time.Time) {
	if n == nil {
		return
	}
	switch n.ProvisioningStatus {
	case PendingCreate, PendingDelete:
		return
	}
	setProvisioning(n, PendingUpdate, at)
}

// setProvisioning changes a status; updated_at moves when it changes.
func setProvisioning[T any](n *Node[T], status string, at time.Time) {
	if n == nil || n.ProvisioningStatus == status {
		return
	}
	n.ProvisioningStatus = status
	touch(n, at)
}

// setOperating changes an operating status; updated_at moves when it changes.
func setOperating[T any](n *Node[T], status string, at time.Time) {
	if n == nil || n.OperatingStatus == status {
		return
	}
	n.OperatingStatus = status
	touch(n, at)
}

func touch[T any](n *Node[T], at time.Time) {
	t := at
	n.UpdatedAt = &t
}
