// Package v2fake has in-memory stand-ins for the collaborators of the v2
// API (commands, read model, event log, subnets), for handler tests. They
// record what they are asked and answer what a test scripts.
package v2fake

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/octavia-es/octavia-es/adapters/network"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	v2 "github.com/octavia-es/octavia-es/http/v2"
	"github.com/octavia-es/octavia-es/projections"
)

// Epoch is the creation time of everything the fakes create.
var Epoch = time.Date(2026, 11, 26, 2, 18, 44, 0, time.UTC)

// Call is one Execute.
type Call struct {
	LoadBalancerID string
	Command        loadbalancer.Command
	Metadata       events.Metadata
}

// Commands is a fake aggregate: Load returns States; Execute records the
// call and, unless Err is set, applies a simplified evolution (creates
// enter PENDING_CREATE, updates PENDING_UPDATE with the patch merged,
// deletes PENDING_DELETE) so responses render.
type Commands struct {
	mu       sync.Mutex
	States   map[string]loadbalancer.State
	Calls    []Call
	Err      error // returned by Execute when set
	LoadErr  error // returned by Load when set
	Position int64
}

func NewCommands() *Commands { return &Commands{States: map[string]loadbalancer.State{}} }

func (c *Commands) Load(ctx context.Context, lbID string) (loadbalancer.State, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.LoadErr != nil {
		return loadbalancer.State{}, c.LoadErr
	}
	s, ok := c.States[lbID]
	if !ok {
		return loadbalancer.NewState(), nil
	}
	return s, nil
}

func (c *Commands) Execute(ctx context.Context, lbID string, cmd loadbalancer.Command, md events.Metadata) (loadbalancer.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Calls = append(c.Calls, Call{LoadBalancerID: lbID, Command: cmd, Metadata: md})
	if c.Err != nil {
		return loadbalancer.Result{}, c.Err
	}
	s, ok := c.States[lbID]
	if !ok {
		s = loadbalancer.NewState()
	}
	s, err := apply(s, cmd)
	if err != nil {
		return loadbalancer.Result{}, err
	}
	c.States[lbID] = s
	c.Position++
	return loadbalancer.Result{State: s, Position: c.Position}, nil
}

// LastCall is the most recent Execute (zero when none).
func (c *Commands) LastCall() Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.Calls) == 0 {
		return Call{}
	}
	return c.Calls[len(c.Calls)-1]
}

// CallCount is the number of Execute calls.
func (c *Commands) CallCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.Calls)
}

// Put stores a state for Load.
func (c *Commands) Put(s loadbalancer.State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.States[s.LoadBalancer.Spec.ID] = s
}

func node[T any](spec T, prov, op string) *loadbalancer.Node[T] {
	return &loadbalancer.Node[T]{Spec: spec, ProvisioningStatus: prov, OperatingStatus: op, CreatedAt: Epoch}
}

// decided runs the real aggregate on s: for the single-call creates, whose
// many objects a simplified evolution would render wrongly.
func decided(s loadbalancer.State, cmd loadbalancer.Command) (loadbalancer.State, error) {
	evs, err := loadbalancer.Decide(s, cmd)
	if err != nil {
		return s, err
	}
	s = s.Clone()
	for _, e := range evs {
		s = loadbalancer.Evolve(s, s.Version+1, Epoch, e)
	}
	return s, nil
}

func apply(s loadbalancer.State, cmd loadbalancer.Command) (loadbalancer.State, error) {
	pending := func() { s.LoadBalancer.ProvisioningStatus = loadbalancer.PendingUpdate }
	switch c := cmd.(type) {
	case loadbalancer.CreateLoadBalancer:
		if c.Vip != nil || len(c.Pools) > 0 || len(c.Listeners) > 0 {
			return decided(s, c)
		}
		s.Exists = true
		s.LoadBalancer = *node(c.Spec, loadbalancer.PendingCreate, loadbalancer.Offline)
	case loadbalancer.UpdateLoadBalancer:
		if err := merge(&s.LoadBalancer.Spec, c.Patch); err != nil {
			return s, err
		}
		pending()
	case loadbalancer.DeleteLoadBalancer:
		s.LoadBalancer.ProvisioningStatus = loadbalancer.PendingDelete
	case loadbalancer.FailoverLoadBalancer:
		pending()
	case loadbalancer.UpdateAmphoraAgentConfig:
		// Locks nothing: the state is unchanged.
	case loadbalancer.CreateListener:
		if c.DefaultPool != nil {
			return decided(s, c)
		}
		s.Listeners[c.Spec.ID] = node(c.Spec, loadbalancer.PendingCreate, loadbalancer.Offline)
		pending()
	case loadbalancer.UpdateListener:
		n := s.Listeners[c.ListenerID]
		if err := merge(&n.Spec, c.Patch); err != nil {
			return s, err
		}
		n.ProvisioningStatus = loadbalancer.PendingUpdate
		pending()
	case loadbalancer.DeleteListener:
		s.Listeners[c.ListenerID].ProvisioningStatus = loadbalancer.PendingDelete
		pending()
	case loadbalancer.CreatePool:
		if c.HealthMonitor != nil || len(c.Members) > 0 {
			return decided(s, c)
		}
		s.Pools[c.Spec.ID] = node(c.Spec, loadbalancer.PendingCreate, loadbalancer.Offline)
		if l := s.Listeners[c.Spec.ListenerID]; l != nil && l.Spec.DefaultPoolID == nil {
			id := c.Spec.ID
			l.Spec.DefaultPoolID = &id
		}
		pending()
	case loadbalancer.UpdatePool:
		n := s.Pools[c.PoolID]
		if err := merge(&n.Spec, c.Patch); err != nil {
			return s, err
		}
		n.ProvisioningStatus = loadbalancer.PendingUpdate
		pending()
	case loadbalancer.DeletePool:
		s.Pools[c.PoolID].ProvisioningStatus = loadbalancer.PendingDelete
		pending()
	case loadbalancer.CreateMember:
		s.Members[c.Spec.ID] = node(c.Spec, loadbalancer.PendingCreate, loadbalancer.NoMonitor)
		pending()
	case loadbalancer.UpdateMember:
		n := s.Members[c.MemberID]
		if err := merge(&n.Spec, c.Patch); err != nil {
			return s, err
		}
		n.ProvisioningStatus = loadbalancer.PendingUpdate
		pending()
	case loadbalancer.DeleteMember:
		s.Members[c.MemberID].ProvisioningStatus = loadbalancer.PendingDelete
		pending()
	case loadbalancer.BatchUpdateMembers:
		pending()
	case loadbalancer.CreateHealthMonitor:
		s.HealthMonitors[c.Spec.ID] = node(c.Spec, loadbalancer.PendingCreate, loadbalancer.Offline)
		pending()
	case loadbalancer.UpdateHealthMonitor:
		n := s.HealthMonitors[c.HealthMonitorID]
		if err := merge(&n.Spec, c.Patch); err != nil {
			return s, err
		}
		n.ProvisioningStatus = loadbalancer.PendingUpdate
		pending()
	case loadbalancer.DeleteHealthMonitor:
		s.HealthMonitors[c.HealthMonitorID].ProvisioningStatus = loadbalancer.PendingDelete
		pending()
	default:
		return s, fmt.Errorf("v2fake: unexpected command %T", cmd)
	}
	return s, nil
}

// merge applies a PUT patch to a spec the way the aggregate does: present
// keys replace, null clears.
func merge[T any](spec *T, p loadbalancer.Patch) error {
	b, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	for k, v := range p {
		m[k] = v
	}
	b, err = json.Marshal(m)
	if err != nil {
		return err
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		return err
	}
	*spec = out
	return nil
}

// ReadModel is a fake read model over maps of views. WaitFor blocks until
// ctx ends while Lag is set.
type ReadModel struct {
	mu             sync.Mutex
	LoadBalancers  map[string]projections.LoadBalancerView
	Listeners      map[string]projections.ListenerView
	Pools          map[string]projections.PoolView
	Members        map[string]projections.MemberView // by member id
	HealthMonitors map[string]projections.HealthMonitorView
	Statuses       map[string]projections.StatusTree
	Stats          map[string]projections.Stats // load balancers and listeners by id
	Amphorae       map[string]projections.AmphoraView
	AmphoraStatsOf map[string][]projections.AmphoraStatsView
	ListErr        error // returned by List* when set
	Lag            bool
	Waited         []int64 // positions WaitFor was asked for
	LastList       projections.ListOptions
	LastPool       string // pool of the last ListMembers
	Panic          bool   // GetLoadBalancer panics (tests the server's recovery)
}

func NewReadModel() *ReadModel {
	return &ReadModel{
		LoadBalancers: map[string]projections.LoadBalancerView{}, Listeners: map[string]projections.ListenerView{},
		Pools: map[string]projections.PoolView{}, Members: map[string]projections.MemberView{},
		HealthMonitors: map[string]projections.HealthMonitorView{}, Statuses: map[string]projections.StatusTree{},
		Stats: map[string]projections.Stats{}, Amphorae: map[string]projections.AmphoraView{},
		AmphoraStatsOf: map[string][]projections.AmphoraStatsView{},
	}
}

func get[T any](rm *ReadModel, m map[string]T, id string) (T, error) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	v, ok := m[id]
	if !ok {
		return v, projections.ErrNotFound
	}
	return v, nil
}

// list returns every value of m ordered by id, up to o.Limit.
func list[T any](rm *ReadModel, m map[string]T, o projections.ListOptions, keep func(T) bool) (projections.Page[T], error) {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	rm.LastList = o
	if rm.ListErr != nil {
		return projections.Page[T]{}, rm.ListErr
	}
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sortStrings(ids)
	var out []T
	for _, id := range ids {
		if keep != nil && !keep(m[id]) {
			continue
		}
		if o.Limit > 0 && len(out) == o.Limit {
			break
		}
		out = append(out, m[id])
	}
	return projections.Page[T]{Items: out}, nil
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func (rm *ReadModel) GetLoadBalancer(ctx context.Context, id string) (projections.LoadBalancerView, error) {
	if rm.Panic {
		panic("v2fake: scripted panic")
	}
	return get(rm, rm.LoadBalancers, id)
}

func (rm *ReadModel) ListLoadBalancers(ctx context.Context, o projections.ListOptions) (projections.Page[projections.LoadBalancerView], error) {
	return list(rm, rm.LoadBalancers, o, nil)
}

func (rm *ReadModel) GetListener(ctx context.Context, id string) (projections.ListenerView, error) {
	return get(rm, rm.Listeners, id)
}

func (rm *ReadModel) ListListeners(ctx context.Context, o projections.ListOptions) (projections.Page[projections.ListenerView], error) {
	return list(rm, rm.Listeners, o, nil)
}

func (rm *ReadModel) GetPool(ctx context.Context, id string) (projections.PoolView, error) {
	return get(rm, rm.Pools, id)
}

func (rm *ReadModel) ListPools(ctx context.Context, o projections.ListOptions) (projections.Page[projections.PoolView], error) {
	return list(rm, rm.Pools, o, nil)
}

func (rm *ReadModel) GetMember(ctx context.Context, poolID, memberID string) (projections.MemberView, error) {
	m, err := get(rm, rm.Members, memberID)
	if err != nil {
		return m, err
	}
	rm.mu.Lock()
	defer rm.mu.Unlock()
	for _, ref := range rm.Pools[poolID].Members {
		if ref.ID == memberID {
			return m, nil
		}
	}
	return projections.MemberView{}, projections.ErrNotFound
}

func (rm *ReadModel) ListMembers(ctx context.Context, poolID string, o projections.ListOptions) (projections.Page[projections.MemberView], error) {
	rm.mu.Lock()
	rm.LastPool = poolID
	refs := map[string]bool{}
	for _, ref := range rm.Pools[poolID].Members {
		refs[ref.ID] = true
	}
	rm.mu.Unlock()
	return list(rm, rm.Members, o, func(m projections.MemberView) bool { return refs[m.ID] })
}

func (rm *ReadModel) GetHealthMonitor(ctx context.Context, id string) (projections.HealthMonitorView, error) {
	return get(rm, rm.HealthMonitors, id)
}

func (rm *ReadModel) ListHealthMonitors(ctx context.Context, o projections.ListOptions) (projections.Page[projections.HealthMonitorView], error) {
	return list(rm, rm.HealthMonitors, o, nil)
}

func (rm *ReadModel) StatusTree(ctx context.Context, id string) (projections.StatusTree, error) {
	return get(rm, rm.Statuses, id)
}

func (rm *ReadModel) LoadBalancerStats(ctx context.Context, id string) (projections.Stats, error) {
	return get(rm, rm.Stats, id)
}

func (rm *ReadModel) ListenerStats(ctx context.Context, id string) (projections.Stats, error) {
	return get(rm, rm.Stats, id)
}

func (rm *ReadModel) WaitFor(ctx context.Context, position int64) error {
	rm.mu.Lock()
	rm.Waited = append(rm.Waited, position)
	lag := rm.Lag
	rm.mu.Unlock()
	if lag {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

// Events is a fake event log head.
type Events struct {
	mu   sync.Mutex
	head int64
	Err  error
}

func (e *Events) SetHead(h int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.head = h
}

func (e *Events) Head(ctx context.Context) (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.head, e.Err
}

// Subnets is a fixed subnet catalogue.
type Subnets []v2.Subnet

func (s Subnets) GetSubnet(ctx context.Context, id string) (v2.Subnet, bool, error) {
	for _, x := range s {
		if x.ID == id {
			return x, true, nil
		}
	}
	return v2.Subnet{}, false, nil
}

func (s Subnets) ListSubnets(ctx context.Context) ([]v2.Subnet, error) { return s, nil }

// VIPs is a fake VIP allocator: each load balancer gets the address it
// asks for, else 10.0.0.<n> counting from 100, on port "port-<lb id>".
// Err, when set, is returned by AllocateVIP.
type VIPs struct {
	mu        sync.Mutex
	next      int
	Err       error
	Allocated []network.VIPRequest
	Released  []string // load balancer ids
}

func (v *VIPs) AllocateVIP(ctx context.Context, req network.VIPRequest) (network.VIP, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.Allocated = append(v.Allocated, req)
	if v.Err != nil {
		return network.VIP{}, v.Err
	}
	addr := req.Address
	if addr == "" {
		addr = fmt.Sprintf("10.0.0.%d", 100+v.next)
		v.next++
	}
	return network.VIP{Address: addr, PortID: "port-" + req.LoadBalancerID, SubnetID: req.SubnetID, NetworkID: req.NetworkID}, nil
}

func (v *VIPs) ReleaseVIP(ctx context.Context, loadBalancerID, portID string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.Released = append(v.Released, loadBalancerID)
	return nil
}

// Counts returns how many VIPs were asked for and released.
func (v *VIPs) Counts() (allocated, released int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.Allocated), len(v.Released)
}

// IDs returns a NewID func yielding the given ids in order, then
// "id-<n>".
func IDs(ids ...string) func() string {
	var mu sync.Mutex
	n := 0
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n <= len(ids) {
			return ids[n-1]
		}
		return fmt.Sprintf("id-%d", n)
	}
}

// The Raw list variants serve the stored documents, as the real read model.

func (rm *ReadModel) ListLoadBalancersRaw(ctx context.Context, o projections.ListOptions) (projections.Page[json.RawMessage], error) {
	return raw(rm.ListLoadBalancers(ctx, o))
}

func (rm *ReadModel) ListListenersRaw(ctx context.Context, o projections.ListOptions) (projections.Page[json.RawMessage], error) {
	return raw(rm.ListListeners(ctx, o))
}

func (rm *ReadModel) ListPoolsRaw(ctx context.Context, o projections.ListOptions) (projections.Page[json.RawMessage], error) {
	return raw(rm.ListPools(ctx, o))
}

func (rm *ReadModel) ListMembersRaw(ctx context.Context, poolID string, o projections.ListOptions) (projections.Page[json.RawMessage], error) {
	return raw(rm.ListMembers(ctx, poolID, o))
}

func (rm *ReadModel) ListHealthMonitorsRaw(ctx context.Context, o projections.ListOptions) (projections.Page[json.RawMessage], error) {
	return raw(rm.ListHealthMonitors(ctx, o))
}

func raw[T any](p projections.Page[T], err error) (projections.Page[json.RawMessage], error) {
	out := projections.Page[json.RawMessage]{NextMarker: p.NextMarker, PrevMarker: p.PrevMarker}
	if err != nil {
		return out, err
	}
	for _, it := range p.Items {
		b, err := json.Marshal(it)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, b)
	}
	return out, nil
}

func (rm *ReadModel) ListAmphoraeRaw(ctx context.Context, o projections.ListOptions) (projections.Page[json.RawMessage], error) {
	return raw(list(rm, rm.Amphorae, o, nil))
}

func (rm *ReadModel) GetAmphora(ctx context.Context, id string) (projections.AmphoraView, error) {
	return get(rm, rm.Amphorae, id)
}

func (rm *ReadModel) AmphoraStats(ctx context.Context, id string) ([]projections.AmphoraStatsView, error) {
	return get(rm, rm.AmphoraStatsOf, id)
}
