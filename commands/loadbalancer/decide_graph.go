package loadbalancer

import (
	"time"

	"github.com/octavia-es/octavia-es/events"
)

// Single-call ("fully populated") creates, as Octavia's _graph_create: the
// objects of one request are decided one by one, in Octavia's order, and
// appended together, so the request is accepted or refused as a whole and
// every object starts in PENDING_CREATE. The operation that settles the
// first object (the create saga's activation, or the configuration push of
// a child change) settles them all.

// graphBuilder folds each accepted event into a scratch copy of the state,
// so the checks of later objects see the earlier ones: a listener's default
// pool, a port or member address already taken in the same request.
type graphBuilder struct {
	s      State
	events []events.Event
}

func newGraphBuilder(s State) *graphBuilder { return &graphBuilder{s: s.Clone()} }

// add records the events of one decision, or passes its refusal on.
func (g *graphBuilder) add(evs []events.Event, err error) error {
	if err != nil {
		return err
	}
	for _, e := range evs {
		// Times and versions of the scratch state are never read.
		g.s = Evolve(g.s, g.s.Version+1, time.Time{}, e)
		g.events = append(g.events, e)
	}
	return nil
}

// pool adds a pool, then its health monitor (before the members, which
// then start OFFLINE instead of NO_MONITOR, as Octavia creates them), then
// its members. Only the pool itself tests statuses, and only with
// checkStatus.
func (g *graphBuilder) pool(p PoolGraph, checkStatus bool) error {
	if err := g.add(createPool(g.s, p.Spec, checkStatus)); err != nil {
		return err
	}
	if p.HealthMonitor != nil {
		hm := *p.HealthMonitor
		hm.PoolID = p.Spec.ID
		if err := g.add(createHealthMonitor(g.s, hm, false)); err != nil {
			return err
		}
	}
	for _, m := range p.Members {
		m.PoolID = p.Spec.ID
		if err := g.add(createMember(g.s, m, false)); err != nil {
			return err
		}
	}
	return nil
}

// decideLoadBalancerGraph is LoadBalancersController.post past the load
// balancer's own checks: the VIP the API allocated, then the pools (with
// their monitors and members), then the listeners, whose default pools are
// among those pools. Nothing is locked yet, so no status is tested.
func decideLoadBalancerGraph(s State, c CreateLoadBalancer) ([]events.Event, error) {
	id := c.Spec.ID
	g := newGraphBuilder(s)
	if err := g.add([]events.Event{events.LoadBalancerCreateRequested{LoadBalancer: c.Spec}}, nil); err != nil {
		return nil, err
	}
	if c.Vip != nil {
		vip := *c.Vip
		vip.LoadBalancerID = id
		if err := g.add([]events.Event{vip}, nil); err != nil {
			return nil, err
		}
	}
	for _, p := range c.Pools {
		p.Spec.LoadBalancerID = id
		if err := g.pool(p, false); err != nil {
			return nil, err
		}
	}
	for _, l := range c.Listeners {
		l.LoadBalancerID = id
		if err := g.add(createListener(g.s, l, false)); err != nil {
			return nil, err
		}
	}
	return g.events, nil
}

// decideListenerGraph is a listener POST with default_pool: the load
// balancer must be ACTIVE, then the pool (with its monitor and members) and
// the listener pointing at it are decided as their own POSTs would be.
func decideListenerGraph(s State, c CreateListener) ([]events.Event, error) {
	if err := requireLoadBalancer(s, c.Spec.LoadBalancerID); err != nil {
		return nil, err
	}
	if err := requireMutable(s); err != nil {
		return nil, err
	}
	g := newGraphBuilder(s)
	p := *c.DefaultPool
	p.Spec.LoadBalancerID = s.LoadBalancerID()
	p.Spec.ListenerID = "" // linked by the listener's default_pool_id
	if err := g.pool(p, false); err != nil {
		return nil, err
	}
	l := c.Spec
	l.DefaultPoolID = &p.Spec.ID
	if err := g.add(createListener(g.s, l, false)); err != nil {
		return nil, err
	}
	return g.events, nil
}

// decidePoolGraph is a pool POST with healthmonitor and/or members: the
// pool's own checks (with the statuses), then its children.
func decidePoolGraph(s State, c CreatePool) ([]events.Event, error) {
	g := newGraphBuilder(s)
	if err := g.pool(PoolGraph{Spec: c.Spec, HealthMonitor: c.HealthMonitor, Members: c.Members}, true); err != nil {
		return nil, err
	}
	return g.events, nil
}
