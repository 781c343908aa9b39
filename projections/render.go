package projections

import (
	"cmp"
	"slices"
	"time"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
)

// Render* turn an aggregate state into Octavia's response objects. They are
// pure: the HTTP layer renders POST/PUT responses with them and the projector
// renders rows with them, so a response and a later GET cannot disagree.
//
// Octavia rules applied (api/v2/types/*.py from_data_model, api/common/types.py
// BaseType.from_data_model):
//   - name and description are "" when unset (never null);
//   - tenant_id mirrors project_id;
//   - times are UTC, second precision, no zone; updated_at null until set;
//   - related objects are [{"id": ...}] lists, never null (sorted here by
//     creation time then id, so a document is deterministic);
//   - tags, sni_container_refs, additional_vips are [] when empty;
//     allowed_cidrs is null when empty;
//   - provider falls back to "octavia".

// RenderLoadBalancer renders the load balancer of s.
func RenderLoadBalancer(s loadbalancer.State) LoadBalancerView {
	n := s.LoadBalancer
	sp := n.Spec
	provider := sp.Provider
	if provider == "" {
		provider = "octavia"
	}
	return LoadBalancerView{
		ID:                 sp.ID,
		Name:               orEmpty(sp.Name),
		Description:        orEmpty(sp.Description),
		ProvisioningStatus: n.ProvisioningStatus,
		OperatingStatus:    n.OperatingStatus,
		AdminStateUp:       sp.AdminStateUp,
		ProjectID:          sp.ProjectID,
		TenantID:           sp.ProjectID,
		CreatedAt:          formatTime(n.CreatedAt),
		UpdatedAt:          formatTimePtr(n.UpdatedAt),
		VipAddress:         sp.VipAddress,
		VipPortID:          sp.VipPortID,
		VipSubnetID:        sp.VipSubnetID,
		VipNetworkID:       sp.VipNetworkID,
		AdditionalVips:     nonNil(sp.AdditionalVips),
		Listeners:          refs(s.Listeners, nil),
		Pools:              refs(s.Pools, nil),
		Provider:           provider,
		FlavorID:           sp.FlavorID,
		VipQosPolicyID:     sp.VipQosPolicyID,
		Tags:               nonNil(sp.Tags),
		AvailabilityZone:   sp.AvailabilityZone,
	}
}

// RenderListener renders listener id of s; false if s has no such listener.
func RenderListener(s loadbalancer.State, id string) (ListenerView, bool) {
	n, ok := s.Listeners[id]
	if !ok || n == nil {
		return ListenerView{}, false
	}
	sp := n.Spec
	var cidrs []string
	if len(sp.AllowedCIDRs) > 0 {
		cidrs = sp.AllowedCIDRs
	}
	lbID := sp.LoadBalancerID
	if lbID == "" {
		lbID = s.LoadBalancer.Spec.ID
	}
	return ListenerView{
		ID:                      sp.ID,
		Name:                    orEmpty(sp.Name),
		Description:             orEmpty(sp.Description),
		ProvisioningStatus:      n.ProvisioningStatus,
		OperatingStatus:         n.OperatingStatus,
		AdminStateUp:            sp.AdminStateUp,
		Protocol:                sp.Protocol,
		ProtocolPort:            sp.ProtocolPort,
		ConnectionLimit:         sp.ConnectionLimit,
		DefaultTLSContainerRef:  sp.DefaultTLSContainerRef,
		SNIContainerRefs:        nonNil(sp.SNIContainerRefs),
		ProjectID:               sp.ProjectID,
		TenantID:                sp.ProjectID,
		DefaultPoolID:           sp.DefaultPoolID,
		L7Policies:              []IDRef{},
		InsertHeaders:           sp.InsertHeaders,
		CreatedAt:               formatTime(n.CreatedAt),
		UpdatedAt:               formatTimePtr(n.UpdatedAt),
		LoadBalancers:           []IDRef{{ID: lbID}},
		TimeoutClientData:       sp.TimeoutClientData,
		TimeoutMemberConnect:    sp.TimeoutMemberConnect,
		TimeoutMemberData:       sp.TimeoutMemberData,
		TimeoutTCPInspect:       sp.TimeoutTCPInspect,
		Tags:                    nonNil(sp.Tags),
		ClientCATLSContainerRef: sp.ClientCATLSContainerRef,
		ClientAuthentication:    sp.ClientAuthentication,
		ClientCRLContainerRef:   sp.ClientCRLContainerRef,
		AllowedCIDRs:            cidrs,
		TLSCiphers:              sp.TLSCiphers,
		TLSVersions:             sp.TLSVersions,
		ALPNProtocols:           sp.ALPNProtocols,
	}, true
}

// RenderPool renders pool id of s; false if s has no such pool.
func RenderPool(s loadbalancer.State, id string) (PoolView, bool) {
	n, ok := s.Pools[id]
	if !ok || n == nil {
		return PoolView{}, false
	}
	sp := n.Spec
	lbID := sp.LoadBalancerID
	if lbID == "" {
		lbID = s.LoadBalancer.Spec.ID
	}
	var hmID *string
	if hm := poolMonitor(s, id); hm != nil {
		hmID = &hm.Spec.ID
	}
	return PoolView{
		ID:                 sp.ID,
		Name:               orEmpty(sp.Name),
		Description:        orEmpty(sp.Description),
		ProvisioningStatus: n.ProvisioningStatus,
		OperatingStatus:    n.OperatingStatus,
		AdminStateUp:       sp.AdminStateUp,
		Protocol:           sp.Protocol,
		LBAlgorithm:        sp.LBAlgorithm,
		SessionPersistence: sp.SessionPersistence,
		ProjectID:          sp.ProjectID,
		TenantID:           sp.ProjectID,
		LoadBalancers:      []IDRef{{ID: lbID}},
		Listeners:          refs(s.Listeners, func(l events.Listener) bool { return poolServesListener(sp, l) }),
		CreatedAt:          formatTime(n.CreatedAt),
		UpdatedAt:          formatTimePtr(n.UpdatedAt),
		HealthMonitorID:    hmID,
		Members:            refs(s.Members, func(m events.Member) bool { return m.PoolID == id }),
		Tags:               nonNil(sp.Tags),
		TLSContainerRef:    sp.TLSContainerRef,
		CATLSContainerRef:  sp.CATLSContainerRef,
		CRLContainerRef:    sp.CRLContainerRef,
		TLSEnabled:         sp.TLSEnabled,
		TLSCiphers:         sp.TLSCiphers,
		TLSVersions:        sp.TLSVersions,
		ALPNProtocols:      sp.ALPNProtocols,
	}, true
}

// poolServesListener: Octavia's pool.listeners are the listeners whose
// default pool it is (Evolve points the listener a pool is created for at
// the pool, so that one is included).
func poolServesListener(p events.Pool, l events.Listener) bool {
	return l.DefaultPoolID != nil && *l.DefaultPoolID == p.ID
}

// RenderMember renders member id of s; false if s has no such member.
func RenderMember(s loadbalancer.State, id string) (MemberView, bool) {
	n, ok := s.Members[id]
	if !ok || n == nil {
		return MemberView{}, false
	}
	sp := n.Spec
	return MemberView{
		ID:                 sp.ID,
		Name:               orEmpty(sp.Name),
		OperatingStatus:    n.OperatingStatus,
		ProvisioningStatus: n.ProvisioningStatus,
		AdminStateUp:       sp.AdminStateUp,
		Address:            sp.Address,
		ProtocolPort:       sp.ProtocolPort,
		Weight:             sp.Weight,
		Backup:             sp.Backup,
		SubnetID:           sp.SubnetID,
		ProjectID:          sp.ProjectID,
		TenantID:           sp.ProjectID,
		CreatedAt:          formatTime(n.CreatedAt),
		UpdatedAt:          formatTimePtr(n.UpdatedAt),
		MonitorAddress:     sp.MonitorAddress,
		MonitorPort:        sp.MonitorPort,
		Tags:               nonNil(sp.Tags),
	}, true
}

// RenderHealthMonitor renders health monitor id of s; false if s has no
// such monitor.
func RenderHealthMonitor(s loadbalancer.State, id string) (HealthMonitorView, bool) {
	n, ok := s.HealthMonitors[id]
	if !ok || n == nil {
		return HealthMonitorView{}, false
	}
	sp := n.Spec
	return HealthMonitorView{
		ID:                 sp.ID,
		Name:               orEmpty(sp.Name),
		ProvisioningStatus: n.ProvisioningStatus,
		OperatingStatus:    n.OperatingStatus,
		AdminStateUp:       sp.AdminStateUp,
		Type:               sp.Type,
		Delay:              sp.Delay,
		Timeout:            sp.Timeout,
		MaxRetries:         sp.MaxRetries,
		MaxRetriesDown:     sp.MaxRetriesDown,
		HTTPMethod:         sp.HTTPMethod,
		URLPath:            sp.URLPath,
		ExpectedCodes:      sp.ExpectedCodes,
		HTTPVersion:        sp.HTTPVersion,
		DomainName:         sp.DomainName,
		ProjectID:          sp.ProjectID,
		TenantID:           sp.ProjectID,
		Pools:              []IDRef{{ID: sp.PoolID}},
		CreatedAt:          formatTime(n.CreatedAt),
		UpdatedAt:          formatTimePtr(n.UpdatedAt),
		Tags:               nonNil(sp.Tags),
	}, true
}

// RenderStatusTree renders Octavia's LoadBalancerStatusResponse: listeners,
// each with its default pool, each pool with its monitor (key present only
// when there is one) and members. Null names are "".
func RenderStatusTree(s loadbalancer.State) StatusTree {
	lb := s.LoadBalancer
	out := LoadBalancerStatus{
		ID:                 lb.Spec.ID,
		Name:               deref(lb.Spec.Name),
		OperatingStatus:    lb.OperatingStatus,
		ProvisioningStatus: lb.ProvisioningStatus,
		Listeners:          []ListenerStatus{},
	}
	for _, l := range sortedNodes(s.Listeners, nil) {
		ls := ListenerStatus{
			ID:                 l.Spec.ID,
			Name:               deref(l.Spec.Name),
			OperatingStatus:    l.OperatingStatus,
			ProvisioningStatus: l.ProvisioningStatus,
			Pools:              []PoolStatus{},
		}
		if l.Spec.DefaultPoolID != nil {
			if p, ok := s.Pools[*l.Spec.DefaultPoolID]; ok && p != nil {
				ls.Pools = append(ls.Pools, poolStatus(s, p))
			}
		}
		out.Listeners = append(out.Listeners, ls)
	}
	return StatusTree{LoadBalancer: out}
}

func poolStatus(s loadbalancer.State, p *loadbalancer.Node[events.Pool]) PoolStatus {
	ps := PoolStatus{
		ID:                 p.Spec.ID,
		Name:               deref(p.Spec.Name),
		ProvisioningStatus: p.ProvisioningStatus,
		OperatingStatus:    p.OperatingStatus,
		Members:            []MemberStatus{},
	}
	if hm := poolMonitor(s, p.Spec.ID); hm != nil {
		ps.HealthMonitor = &HealthMonitorStatus{
			ID:                 hm.Spec.ID,
			Name:               deref(hm.Spec.Name),
			Type:               hm.Spec.Type,
			ProvisioningStatus: hm.ProvisioningStatus,
			OperatingStatus:    hm.OperatingStatus,
		}
	}
	members := sortedNodes(s.Members, func(m events.Member) bool { return m.PoolID == p.Spec.ID })
	for _, m := range members {
		ps.Members = append(ps.Members, MemberStatus{
			ID:                 m.Spec.ID,
			Name:               deref(m.Spec.Name),
			OperatingStatus:    m.OperatingStatus,
			ProvisioningStatus: m.ProvisioningStatus,
			Address:            m.Spec.Address,
			ProtocolPort:       m.Spec.ProtocolPort,
		})
	}
	return ps
}

// poolMonitor is the health monitor of pool id (a pool has at most one).
// Should the state ever hold two, the oldest wins so the choice is stable.
func poolMonitor(s loadbalancer.State, poolID string) *loadbalancer.Node[events.HealthMonitor] {
	hms := sortedNodes(s.HealthMonitors, func(h events.HealthMonitor) bool { return h.PoolID == poolID })
	if len(hms) == 0 {
		return nil
	}
	return hms[0]
}

// specID reads the id of any spec type of the graph.
func specID(v any) string {
	switch x := v.(type) {
	case events.Listener:
		return x.ID
	case events.Pool:
		return x.ID
	case events.Member:
		return x.ID
	case events.HealthMonitor:
		return x.ID
	case events.LoadBalancer:
		return x.ID
	}
	return ""
}

// sortedNodes returns the nodes of m accepted by keep (all when nil), oldest
// first, ties broken by id.
func sortedNodes[T any](m map[string]*loadbalancer.Node[T], keep func(T) bool) []*loadbalancer.Node[T] {
	out := make([]*loadbalancer.Node[T], 0, len(m))
	for _, n := range m {
		if n == nil || (keep != nil && !keep(n.Spec)) {
			continue
		}
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b *loadbalancer.Node[T]) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(specID(a.Spec), specID(b.Spec))
	})
	return out
}

func refs[T any](m map[string]*loadbalancer.Node[T], keep func(T) bool) []IDRef {
	nodes := sortedNodes(m, keep)
	out := make([]IDRef, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, IDRef{ID: specID(n.Spec)})
	}
	return out
}

func formatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

func formatTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := formatTime(*t)
	return &s
}

// orEmpty: Octavia answers "" for a name or description never set.
func orEmpty(p *string) *string {
	if p == nil {
		s := ""
		return &s
	}
	return p
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
