package history

import (
	"context"
	"fmt"
	"sync"

	"github.com/octavia-es/octavia-es/events"
)

// defaultProjectCache bounds the load balancer → project cache.
const defaultProjectCache = 65536

// projects maps load balancer ids to their project. An event's project is
// its load balancer's, recorded once in LoadBalancerCreateRequested (a
// saga's events carry no actor project, and an admin's actor project is not
// the load balancer's), so a miss reads the stream once. A load balancer
// never changes project, so entries never go stale; the map is bounded by
// evicting an arbitrary entry when full.
type projects struct {
	store Store
	reg   *events.Registry
	limit int

	mu sync.Mutex
	m  map[string]string
}

func newProjects(store Store, reg *events.Registry, limit int) *projects {
	return &projects{store: store, reg: reg, limit: limit, m: map[string]string{}}
}

// observe records the project of a create event seen in passing.
func (p *projects) observe(env events.Envelope) {
	if env.Type != (events.LoadBalancerCreateRequested{}).EventType() {
		return
	}
	ev, err := p.reg.Decode(env)
	if err != nil {
		return // whoever renders the event reports it
	}
	if c, ok := ev.(events.LoadBalancerCreateRequested); ok && c.LoadBalancer.ProjectID != "" {
		p.put(LoadBalancerOf(env), c.LoadBalancer.ProjectID)
	}
}

// of returns the project of load balancer id; found is false when its
// stream holds no create.
func (p *projects) of(ctx context.Context, id string) (project string, found bool, err error) {
	if id == "" {
		return "", false, nil
	}
	p.mu.Lock()
	project, found = p.m[id]
	p.mu.Unlock()
	if found {
		return project, true, nil
	}
	envs, err := p.store.ReadStream(ctx, events.StreamFor(id), 0)
	if err != nil {
		return "", false, fmt.Errorf("history: project of load balancer %s: %w", id, err)
	}
	project, found = projectIn(p.reg, envs)
	if found {
		p.put(id, project)
	}
	return project, found, nil
}

func (p *projects) put(id, project string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.m[id]; !ok && len(p.m) >= p.limit {
		for k := range p.m {
			delete(p.m, k)
			break
		}
	}
	p.m[id] = project
}

// projectIn is the project of the first create in a stream's events.
func projectIn(reg *events.Registry, envs []events.Envelope) (string, bool) {
	for _, env := range envs {
		if env.Type != (events.LoadBalancerCreateRequested{}).EventType() {
			continue
		}
		ev, err := reg.Decode(env)
		if err != nil {
			continue
		}
		if c, ok := ev.(events.LoadBalancerCreateRequested); ok {
			return c.LoadBalancer.ProjectID, true
		}
	}
	return "", false
}
