package v2

import (
	"encoding/json"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/projections"
)

// A load balancer POST answers Octavia's LoadBalancerFullResponse: its
// listeners and pools are whole objects (ListenerFullResponse,
// PoolFullResponse), which drop their "loadbalancers" reference; a pool
// shows its members and health monitor in full instead of by id.

type loadBalancerFull struct {
	projections.LoadBalancerView
	Listeners []listenerFull `json:"listeners"` // shadow the view's id lists
	Pools     []poolFull     `json:"pools"`
}

type listenerFull struct {
	projections.ListenerView
	LoadBalancers []projections.IDRef `json:"loadbalancers,omitempty"` // nil: not shown
}

type poolFull struct {
	projections.PoolView
	LoadBalancers   []projections.IDRef      `json:"loadbalancers,omitempty"`    // nil: not shown
	HealthMonitorID *string                  `json:"healthmonitor_id,omitempty"` // nil: not shown
	Members         []projections.MemberView `json:"members"`
	HealthMonitor   *healthMonitorFull       `json:"healthmonitor"`
}

// healthMonitorFull is HealthMonitorFullResponse: the monitor without its
// "pools" reference.
type healthMonitorFull struct{ view projections.HealthMonitorView }

func (h healthMonitorFull) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(h.view) // keeps Python's 1.0 for http_version
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	delete(m, "pools")
	return json.Marshal(m)
}

// renderLoadBalancerFull renders the load balancer of s with its listeners
// and pools in full, in the order the id lists of a GET give them.
func renderLoadBalancerFull(s loadbalancer.State) loadBalancerFull {
	lb := projections.RenderLoadBalancer(s)
	out := loadBalancerFull{LoadBalancerView: lb, Listeners: []listenerFull{}, Pools: []poolFull{}}
	for _, ref := range lb.Listeners {
		if v, ok := projections.RenderListener(s, ref.ID); ok {
			out.Listeners = append(out.Listeners, listenerFull{ListenerView: v})
		}
	}
	for _, ref := range lb.Pools {
		v, ok := projections.RenderPool(s, ref.ID)
		if !ok {
			continue
		}
		p := poolFull{PoolView: v, Members: []projections.MemberView{}}
		for _, m := range v.Members {
			if mv, ok := projections.RenderMember(s, m.ID); ok {
				p.Members = append(p.Members, mv)
			}
		}
		if v.HealthMonitorID != nil {
			if hv, ok := projections.RenderHealthMonitor(s, *v.HealthMonitorID); ok {
				p.HealthMonitor = &healthMonitorFull{view: hv}
			}
		}
		out.Pools = append(out.Pools, p)
	}
	return out
}
