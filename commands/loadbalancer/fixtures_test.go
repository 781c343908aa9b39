package loadbalancer

import (
	"encoding/json"
	"time"

	"github.com/octavia-es/octavia-es/events"
)

// Fixtures shared by the tests: one load balancer graph and builders for
// its specs and event histories.

const (
	lbID    = "lb-1"
	project = "proj-1"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// at is the time of the event at stream version v in a given() history.
func at(v int64) time.Time { return t0.Add(time.Duration(v) * time.Second) }

func ptr[T any](v T) *T { return &v }

// given folds a history (versions 1..n, one second apart).
func given(evs ...events.Event) State {
	s := NewStateFor(lbID)
	for i, e := range evs {
		v := int64(i + 1)
		s = Evolve(s, v, at(v), e)
	}
	return s
}

func seq(parts ...[]events.Event) []events.Event {
	var out []events.Event
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func lbSpec() events.LoadBalancer {
	return events.LoadBalancer{
		ID: lbID, ProjectID: project, Name: ptr("lb"), Description: ptr("first"),
		AdminStateUp: true, VipSubnetID: ptr("subnet-1"), Provider: "amphora", Tags: []string{"a"},
	}
}

func listenerSpec(id, proto string, port int) events.Listener {
	return events.Listener{
		ID: id, ProjectID: project, LoadBalancerID: lbID, Name: ptr(id), AdminStateUp: true,
		Protocol: proto, ProtocolPort: port, ConnectionLimit: -1, ClientAuthentication: "NONE",
		TimeoutClientData: 50000, TimeoutMemberConnect: 5000, TimeoutMemberData: 50000,
	}
}

func poolSpec(id, proto string) events.Pool {
	return events.Pool{
		ID: id, ProjectID: project, LoadBalancerID: lbID, Name: ptr(id), AdminStateUp: true,
		Protocol: proto, LBAlgorithm: "ROUND_ROBIN",
	}
}

func memberSpec(id, pool, addr string, port int) events.Member {
	return events.Member{
		ID: id, ProjectID: project, PoolID: pool, AdminStateUp: true,
		Address: addr, ProtocolPort: port, Weight: 1,
	}
}

func hmSpec(id, pool, typ string) events.HealthMonitor {
	return events.HealthMonitor{
		ID: id, ProjectID: project, PoolID: pool, AdminStateUp: true, Type: typ,
		Delay: 5, Timeout: 3, MaxRetries: 3, MaxRetriesDown: 3,
	}
}

func applied() events.Event { return events.ConfigurationApplied{LoadBalancerID: lbID} }

// activeLB: created, VIP allocated, one amphora, ACTIVE.
func activeLB() []events.Event {
	return []events.Event{
		events.LoadBalancerCreateRequested{LoadBalancer: lbSpec()},
		events.VipAllocated{LoadBalancerID: lbID, VipAddress: "10.0.0.10", VipPortID: "port-1", VipSubnetID: "subnet-1", VipNetworkID: "net-1"},
		events.AmphoraBooted{LoadBalancerID: lbID, Amphora: events.Amphora{ID: "amp-1", LoadBalancerID: lbID}},
		events.LoadBalancerActivated{LoadBalancerID: lbID},
	}
}

func withListener(l events.Listener) []events.Event {
	return []events.Event{events.ListenerCreateRequested{Listener: l}, applied()}
}

func withPool(p events.Pool) []events.Event {
	return []events.Event{events.PoolCreateRequested{Pool: p}, applied()}
}

func withMember(m events.Member) []events.Event {
	return []events.Event{events.MemberCreateRequested{LoadBalancerID: lbID, Member: m}, applied()}
}

func withHM(h events.HealthMonitor) []events.Event {
	return []events.Event{events.HealthMonitorCreateRequested{LoadBalancerID: lbID, HealthMonitor: h}, applied()}
}

// graph: ACTIVE LB, HTTP listener l-1 on 80 whose default pool is p-1 (HTTP),
// members m-1 (10.0.1.1:80) and m-2 (10.0.1.2:80).
func graph() []events.Event {
	p := poolSpec("p-1", "HTTP")
	p.ListenerID = "l-1"
	return seq(activeLB(), withListener(listenerSpec("l-1", "HTTP", 80)), withPool(p),
		withMember(memberSpec("m-1", "p-1", "10.0.1.1", 80)),
		withMember(memberSpec("m-2", "p-1", "10.0.1.2", 80)))
}

// patch builds a Patch from a JSON object literal.
func patch(js string) Patch {
	var p Patch
	if err := json.Unmarshal([]byte(js), &p); err != nil {
		panic(err)
	}
	return p
}
