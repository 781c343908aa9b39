package loadbalancer

import (
	"github.com/octavia-es/octavia-es/events"
)

// memberFixed are the attributes a member PUT cannot change.
var memberFixed = []string{"id", "project_id", "pool_id", "address", "protocol_port", "subnet_id"}

// decideCreateMember is MemberController.post: pool, pool and load
// balancer status, duplicate address and port.
func decideCreateMember(s State, c CreateMember) ([]events.Event, error) {
	return createMember(s, c.Spec, true)
}

// createMember decides one member; without checkStatus the statuses of its
// pool and load balancer are the caller's to check (see createListener).
func createMember(s State, sp events.Member, checkStatus bool) ([]events.Event, error) {
	pool := s.Pools[sp.PoolID]
	if pool == nil || !s.Alive() {
		return nil, notFound(resPool, sp.PoolID)
	}
	if err := checkNewID(s, sp.ID); err != nil {
		return nil, err
	}
	if checkStatus {
		if err := requirePoolMutable(s, sp.PoolID); err != nil {
			return nil, err
		}
	}
	if err := checkMemberUnique(s, sp); err != nil {
		return nil, err
	}
	sp.ProjectID = s.LoadBalancer.Spec.ProjectID
	return []events.Event{events.MemberCreateRequested{LoadBalancerID: s.LoadBalancerID(), Member: sp}}, nil
}

// decideUpdateMember is MemberController.put.
func decideUpdateMember(s State, c UpdateMember) ([]events.Event, error) {
	n, err := lookupMember(s, c.PoolID, c.MemberID)
	if err != nil {
		return nil, err
	}
	sp, err := mergePatch(n.Spec, c.Patch, memberFixed...)
	if err != nil {
		return nil, err
	}
	if err := requirePoolMutable(s, c.PoolID); err != nil {
		return nil, err
	}
	if err := requireNotPending(resMember, c.MemberID, n.ProvisioningStatus); err != nil {
		return nil, err
	}
	if err := checkMemberUnique(s, sp); err != nil {
		return nil, err
	}
	return []events.Event{events.MemberUpdateRequested{LoadBalancerID: s.LoadBalancerID(), Member: sp}}, nil
}

// decideDeleteMember is MemberController.delete.
func decideDeleteMember(s State, c DeleteMember) ([]events.Event, error) {
	n, err := lookupMember(s, c.PoolID, c.MemberID)
	if err != nil {
		return nil, err
	}
	if err := requirePoolMutable(s, c.PoolID); err != nil {
		return nil, err
	}
	if err := requireNotPending(resMember, c.MemberID, n.ProvisioningStatus); err != nil {
		return nil, err
	}
	return []events.Event{events.MemberDeleteRequested{
		LoadBalancerID: s.LoadBalancerID(), PoolID: c.PoolID, MemberID: c.MemberID,
	}}, nil
}

// decideBatchUpdateMembers is MembersController.put: members are matched by
// (address, protocol_port); listed and known → updated, listed and new →
// created, known and not listed → deleted (unless Additive). When nothing
// is listed and the pool has no members Octavia answers 202 and changes
// nothing: no events.
func decideBatchUpdateMembers(s State, c BatchUpdateMembers) ([]events.Event, error) {
	pool := s.Pools[c.PoolID]
	if pool == nil || !s.Alive() {
		return nil, notFound(resPool, c.PoolID)
	}
	if err := requirePoolMutable(s, c.PoolID); err != nil {
		return nil, err
	}

	type key struct {
		addr string
		port int
	}
	existing := map[key]*Node[events.Member]{}
	for _, id := range s.PoolMembers(c.PoolID) {
		m := s.Members[id]
		existing[key{m.Spec.Address, m.Spec.ProtocolPort}] = m
	}

	ev := events.MembersBatchUpdateRequested{LoadBalancerID: s.LoadBalancerID(), PoolID: c.PoolID}
	listed := map[key]bool{}
	updatedAt := map[string]int{} // member id → index in ev.Updated (last listing wins)
	createdAt := map[key]bool{}
	for _, m := range c.Members {
		k := key{m.Address, m.ProtocolPort}
		listed[k] = true
		m.PoolID = c.PoolID
		m.ProjectID = s.LoadBalancer.Spec.ProjectID
		if old, ok := existing[k]; ok {
			m.ID = old.Spec.ID
			m.SubnetID = old.Spec.SubnetID
			// Octavia updates with the listed attributes only; name and
			// tags have no default, so when not given they stay.
			if m.Name == nil {
				m.Name = old.Spec.Name
			}
			if m.Tags == nil {
				m.Tags = old.Spec.Tags
			}
			if i, seen := updatedAt[m.ID]; seen {
				ev.Updated[i] = m
				continue
			}
			updatedAt[m.ID] = len(ev.Updated)
			ev.Updated = append(ev.Updated, m)
			continue
		}
		if createdAt[k] {
			return nil, duplicateMemberEntry(m.Address, m.ProtocolPort)
		}
		if err := checkNewID(s, m.ID); err != nil {
			return nil, err
		}
		createdAt[k] = true
		ev.Created = append(ev.Created, m)
	}
	var unlisted []string
	for _, id := range s.PoolMembers(c.PoolID) {
		m := s.Members[id]
		if !listed[key{m.Spec.Address, m.Spec.ProtocolPort}] {
			unlisted = append(unlisted, id)
		}
	}
	if len(ev.Created) == 0 && len(ev.Updated) == 0 && len(unlisted) == 0 {
		return nil, nil
	}
	if !c.Additive {
		ev.Deleted = unlisted
	}
	return []events.Event{ev}, nil
}

// lookupMember finds a member of a pool (404 Pool, then 404 Member).
func lookupMember(s State, poolID, memberID string) (*Node[events.Member], error) {
	if s.Pools[poolID] == nil || !s.Alive() {
		return nil, notFound(resPool, poolID)
	}
	n := s.Members[memberID]
	if n == nil || n.Spec.PoolID != poolID {
		return nil, notFound(resMember, memberID)
	}
	return n, nil
}

// checkMemberUnique: no other member of the pool has the same address and
// port (the database's unique constraint in Octavia).
func checkMemberUnique(s State, sp events.Member) error {
	for _, id := range s.PoolMembers(sp.PoolID) {
		m := s.Members[id]
		if id != sp.ID && m.Spec.Address == sp.Address && m.Spec.ProtocolPort == sp.ProtocolPort {
			return duplicateMemberEntry(sp.Address, sp.ProtocolPort)
		}
	}
	return nil
}
