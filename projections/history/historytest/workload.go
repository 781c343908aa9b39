// Package historytest drives random histories of load balancer graphs
// through the real aggregate, for tests of what reads history.
package historytest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
)

// Write is one command that appended events.
type Write struct {
	LoadBalancerID string
	Command        string
	// Position is the global position of the write's last event: the
	// state as of it is State.
	Position int64
	First    int64 // global position of the write's first event
	State    loadbalancer.State
}

// Options shape a workload.
type Options struct {
	LoadBalancers int      // how many graphs (created as the workload goes)
	Steps         int      // commands tried (refused ones included)
	Projects      []string // load balancers are spread over these (default one)
	Actor         func(project string) events.Metadata
	// Full adds what the basic workload never does: failovers, saga
	// compensations (amphorae deleted, VIPs released), failed deletes and
	// updates, load balancers in ERROR failed over or deleted, pool,
	// member and monitor updates and deletes, batch member updates, amphora
	// agent configuration pushes; and a deleted load balancer's place goes
	// to a new one (the basic workload adds one beside it). Every event
	// type gets recorded.
	Full bool
}

// Run tries opt.Steps random commands (creates, updates, deletes of every
// kind of object, saga outcomes including failures) and returns the writes
// that appended events, in order. Commands the aggregate refuses are part
// of the workload and skipped; any other error ends it.
func Run(ctx context.Context, exec loadbalancer.Executor, rng *rand.Rand, opt Options) ([]Write, error) {
	if len(opt.Projects) == 0 {
		opt.Projects = []string{"project-a"}
	}
	if opt.Actor == nil {
		opt.Actor = func(p string) events.Metadata { return events.Metadata{Actor: events.Actor{ProjectID: p}} }
	}
	w := workload{rng: rng, states: map[string]loadbalancer.State{}, projects: map[string]string{}, full: opt.Full}
	var out []Write
	for range opt.Steps {
		id, cmd, tenant := w.next(opt)
		md := events.Metadata{} // saga outcomes act for nobody
		if tenant {
			md = opt.Actor(w.projects[id])
		}
		res, err := exec.Execute(ctx, id, cmd, md)
		var refused *loadbalancer.Error
		if errors.As(err, &refused) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("historytest: %T on %s: %w", cmd, id, err)
		}
		w.states[id] = res.State
		if res.Position > 0 {
			out = append(out, Write{LoadBalancerID: id, Command: fmt.Sprintf("%T", cmd), Position: res.Position, First: res.Events[0].Position, State: res.State.Clone()})
		}
	}
	return out, nil
}

type workload struct {
	full     bool
	rng      *rand.Rand
	states   map[string]loadbalancer.State
	projects map[string]string
	order    []string
}

func (w *workload) id(prefix string) string {
	return fmt.Sprintf("%s-%08x-%04x", prefix, w.rng.Uint32(), w.rng.Uint32()&0xffff)
}

// next picks a load balancer and a command for it; tenant is false for
// saga outcomes.
func (w *workload) next(opt Options) (id string, cmd loadbalancer.Command, tenant bool) {
	if len(w.order) < opt.LoadBalancers && (len(w.order) == 0 || w.rng.IntN(4) == 0) {
		return w.create(opt, -1)
	}
	i := w.rng.IntN(len(w.order))
	id = w.order[i]
	s := w.states[id]
	if s.Gone {
		if !w.full {
			i = -1 // beside it
		}
		return w.create(opt, i) // a new load balancer in the deleted one's place
	}
	if w.full && len(s.AgentConfigPending) > 0 && w.rng.IntN(3) == 0 {
		amp := pick(w.rng, s.AgentConfigPending)
		if w.rng.IntN(4) == 0 {
			return id, loadbalancer.RecordAmphoraAgentConfigFailed{AmphoraID: amp, Reason: "agent unreachable"}, false
		}
		return id, loadbalancer.RecordAmphoraAgentConfigUpdated{AmphoraID: amp}, false
	}
	// A locked graph mostly settles; sometimes a tenant command is tried
	// anyway (and refused).
	if s.PendingWork() && w.rng.IntN(5) > 0 {
		return id, w.outcome(s), false
	}
	return id, w.tenant(s), true
}

// create creates a load balancer in slot (-1: a new slot of w.order).
func (w *workload) create(opt Options, slot int) (string, loadbalancer.Command, bool) {
	id := w.id("lb")
	project := opt.Projects[w.rng.IntN(len(opt.Projects))]
	if slot < 0 {
		w.order = append(w.order, id)
	} else {
		w.order[slot] = id
	}
	w.projects[id] = project
	w.states[id] = loadbalancer.NewStateFor(id)
	subnet := "subnet-1"
	spec := events.LoadBalancer{ID: id, ProjectID: project, Name: ptr("lb " + id[:6]), Description: ptr(""),
		AdminStateUp: true, VipSubnetID: &subnet, Provider: "amphora", Tags: []string{}}
	addr := fmt.Sprintf("10.0.%d.%d", w.rng.IntN(250), 1+w.rng.IntN(250))
	cmd := loadbalancer.CreateLoadBalancer{Spec: spec, Vip: &events.VipAllocated{
		LoadBalancerID: id, VipAddress: addr, VipPortID: w.id("port"), VipSubnetID: subnet, VipNetworkID: "net-1",
	}}
	return id, cmd, true
}

// outcome is what a saga records next: progress, compensation (amphorae
// deleted, the VIP released) and failures of every operation.
func (w *workload) outcome(s loadbalancer.State) loadbalancer.Command {
	if !w.full {
		return w.basicOutcome(s)
	}
	amphorae := slices.Sorted(maps.Keys(s.Amphorae))
	switch s.Operation {
	case "create", "failover":
		switch r := w.rng.IntN(20); {
		case r < 6 && (len(s.Amphorae) == 0 || s.Operation == "failover" && len(s.FailoverOld) == len(s.Amphorae)):
			return loadbalancer.RecordAmphoraBooted{Amphora: events.Amphora{ID: w.id("amp"), ComputeID: w.id("vm"), Role: "STANDALONE",
				LBNetworkIP: ptr(fmt.Sprintf("192.168.%d.%d", w.rng.IntN(250), 1+w.rng.IntN(250))), ComputeDriver: "noop",
				NetworkDriver: "noop", AmphoraDriver: "noop"}}
		case r < 9 && s.Operation == "failover" && len(s.FailoverOld) > 0:
			return loadbalancer.RecordAmphoraDeleted{AmphoraID: pick(w.rng, s.FailoverOld), Reason: "failed over"}
		case r == 9 && len(amphorae) > 0:
			// compensation of a failing step
			return loadbalancer.RecordAmphoraDeleted{AmphoraID: pick(w.rng, amphorae), Reason: "compensation"}
		case r == 10 && s.Operation == "create" && s.VipAllocated:
			return loadbalancer.RecordVipReleased{}
		case r == 11:
			return loadbalancer.FailProvisioning{Step: pick(w.rng, []string{"boot", "plug_vip", "apply_config"}),
				Reason: pick(w.rng, []string{"compute quota exceeded", "amphora unreachable", "timeout"})}
		default:
			return loadbalancer.ActivateLoadBalancer{}
		}
	case "delete":
		switch r := w.rng.IntN(10); {
		case r == 0:
			return loadbalancer.FailProvisioning{Step: "delete_amphora", Reason: "compute unreachable"}
		case r < 5 && len(amphorae) > 0:
			return loadbalancer.RecordAmphoraDeleted{AmphoraID: pick(w.rng, amphorae), Reason: "load balancer deleted"}
		case r < 7 && s.VipAllocated:
			return loadbalancer.RecordVipReleased{}
		}
		return loadbalancer.RecordLoadBalancerDeleted{}
	default:
		switch w.rng.IntN(24) {
		case 0, 1, 2:
			return loadbalancer.RecordConfigurationFailed{Reason: "amphora unreachable"}
		case 3, 4, 5:
			if s.LoadBalancerUpdated {
				return loadbalancer.ActivateLoadBalancer{}
			}
		case 6:
			return loadbalancer.FailProvisioning{Step: "apply_config", Reason: "timeout"}
		}
		return loadbalancer.RecordConfigurationApplied{}
	}
}

func (w *workload) tenant(s loadbalancer.State) loadbalancer.Command {
	if !w.full {
		return w.basicTenant(s)
	}
	id, project := s.LoadBalancerID(), s.LoadBalancer.Spec.ProjectID
	listeners := slices.Sorted(maps.Keys(s.Listeners))
	pools := slices.Sorted(maps.Keys(s.Pools))
	members := slices.Sorted(maps.Keys(s.Members))
	monitors := slices.Sorted(maps.Keys(s.HealthMonitors))
	member := func(pool string) events.Member {
		return events.Member{ID: w.id("member"), ProjectID: project, PoolID: pool, AdminStateUp: true, Weight: 1,
			Tags: []string{}, Address: fmt.Sprintf("10.1.%d.%d", w.rng.IntN(250), 1+w.rng.IntN(250)), ProtocolPort: 80}
	}
	switch w.rng.IntN(23) {
	case 0, 1:
		return loadbalancer.UpdateLoadBalancer{Patch: patch(`{"name": %q}`, w.id("name"))}
	case 2, 3:
		if s.LoadBalancer.ProvisioningStatus == loadbalancer.ErrorStatus {
			// what an operator does with a load balancer in ERROR
			return pick(w.rng, []loadbalancer.Command{loadbalancer.FailoverLoadBalancer{}, loadbalancer.FailoverLoadBalancer{},
				loadbalancer.DeleteLoadBalancer{Cascade: true}})
		}
		port := 1 + w.rng.IntN(1000)
		return loadbalancer.CreateListener{Spec: events.Listener{
			ID: w.id("listener"), ProjectID: project, LoadBalancerID: id, Name: ptr("l"), AdminStateUp: true,
			Protocol: "HTTP", ProtocolPort: port, ConnectionLimit: -1, ClientAuthentication: "NONE",
			TimeoutClientData: 50000, TimeoutMemberConnect: 5000, TimeoutMemberData: 50000, Tags: []string{},
		}}
	case 4:
		if len(listeners) > 0 {
			return loadbalancer.UpdateListener{ListenerID: pick(w.rng, listeners), Patch: patch(`{"description": %q}`, w.id("d"))}
		}
	case 5:
		if len(listeners) > 0 {
			return loadbalancer.DeleteListener{ListenerID: pick(w.rng, listeners)}
		}
	case 6, 7:
		spec := events.Pool{ID: w.id("pool"), ProjectID: project, LoadBalancerID: id, Name: ptr("p"),
			AdminStateUp: true, Protocol: "HTTP", LBAlgorithm: "ROUND_ROBIN", Tags: []string{}}
		if len(listeners) > 0 && w.rng.IntN(2) == 0 {
			spec.ListenerID = pick(w.rng, listeners)
		}
		return loadbalancer.CreatePool{Spec: spec}
	case 8, 9:
		if len(pools) > 0 {
			return loadbalancer.CreateMember{Spec: member(pick(w.rng, pools))}
		}
	case 10:
		if len(members) > 0 {
			m := s.Members[pick(w.rng, members)]
			return loadbalancer.DeleteMember{PoolID: m.Spec.PoolID, MemberID: m.Spec.ID}
		}
	case 11, 21:
		if len(pools) > 0 {
			return loadbalancer.CreateHealthMonitor{Spec: events.HealthMonitor{ID: w.id("hm"), ProjectID: project,
				PoolID: pick(w.rng, pools), AdminStateUp: true, Type: "TCP", Delay: 5, Timeout: 3, MaxRetries: 3,
				MaxRetriesDown: 3, Tags: []string{}}}
		}
	case 12:
		if w.rng.IntN(5) == 0 {
			return loadbalancer.DeleteLoadBalancer{Cascade: true}
		}
	case 13:
		return loadbalancer.RecordOperatingStatuses{Change: events.OperatingStatusesChanged{
			LoadBalancerID: id, LoadBalancer: pick(w.rng, []string{"ONLINE", "DEGRADED", "ERROR"})}}
	case 14:
		if w.rng.IntN(2) == 0 {
			return loadbalancer.FailoverLoadBalancer{}
		}
		if amphorae := slices.Sorted(maps.Keys(s.Amphorae)); len(amphorae) > 0 {
			return loadbalancer.UpdateAmphoraAgentConfig{AmphoraID: pick(w.rng, amphorae)} // an operator's
		}
	case 15:
		if len(pools) > 0 {
			return loadbalancer.UpdatePool{PoolID: pick(w.rng, pools), Patch: patch(`{"lb_algorithm": %q}`,
				pick(w.rng, []string{"ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP"}))}
		}
	case 16:
		if len(pools) > 0 {
			return loadbalancer.DeletePool{PoolID: pick(w.rng, pools)}
		}
	case 17:
		if len(members) > 0 {
			m := s.Members[pick(w.rng, members)]
			return loadbalancer.UpdateMember{PoolID: m.Spec.PoolID, MemberID: m.Spec.ID,
				Patch: patch(`{"weight": %d}`, w.rng.IntN(256))}
		}
	case 18:
		if len(pools) > 0 {
			pool := pick(w.rng, pools)
			var set []events.Member
			for _, mid := range members {
				if m := s.Members[mid]; m.Spec.PoolID == pool && w.rng.IntN(2) == 0 {
					set = append(set, m.Spec) // kept; the others are deleted
				}
			}
			set = append(set, member(pool))
			return loadbalancer.BatchUpdateMembers{PoolID: pool, Members: set}
		}
	case 19, 22:
		if len(monitors) > 0 {
			return loadbalancer.UpdateHealthMonitor{HealthMonitorID: pick(w.rng, monitors),
				Patch: patch(`{"delay": %d}`, 5+w.rng.IntN(10))}
		}
	case 20:
		if len(monitors) > 0 {
			return loadbalancer.DeleteHealthMonitor{HealthMonitorID: pick(w.rng, monitors)}
		}
	}
	return loadbalancer.UpdateLoadBalancer{Patch: patch(`{"description": %q}`, w.id("d"))}
}

// basicOutcome and basicTenant are the workload without Options.Full.
func (w *workload) basicOutcome(s loadbalancer.State) loadbalancer.Command {
	switch s.Operation {
	case "create", "failover":
		switch r := w.rng.IntN(10); {
		case r < 4 && len(s.Amphorae) == 0:
			return loadbalancer.RecordAmphoraBooted{Amphora: events.Amphora{ID: w.id("amp"), ComputeID: w.id("vm"), Role: "STANDALONE"}}
		case r == 9:
			return loadbalancer.FailProvisioning{Step: "boot", Reason: "compute quota exceeded"}
		default:
			return loadbalancer.ActivateLoadBalancer{}
		}
	case "delete":
		if len(s.Amphorae) > 0 && w.rng.IntN(2) == 0 {
			return loadbalancer.RecordAmphoraDeleted{AmphoraID: pick(w.rng, slices.Sorted(maps.Keys(s.Amphorae))), Reason: "load balancer deleted"}
		}
		return loadbalancer.RecordLoadBalancerDeleted{}
	default:
		switch w.rng.IntN(8) {
		case 0:
			return loadbalancer.RecordConfigurationFailed{Reason: "amphora unreachable"}
		case 1:
			if s.LoadBalancerUpdated {
				return loadbalancer.ActivateLoadBalancer{}
			}
		}
		return loadbalancer.RecordConfigurationApplied{}
	}
}

func (w *workload) basicTenant(s loadbalancer.State) loadbalancer.Command {
	id, project := s.LoadBalancerID(), s.LoadBalancer.Spec.ProjectID
	listeners := slices.Sorted(maps.Keys(s.Listeners))
	pools := slices.Sorted(maps.Keys(s.Pools))
	members := slices.Sorted(maps.Keys(s.Members))
	switch w.rng.IntN(14) {
	case 0, 1:
		return loadbalancer.UpdateLoadBalancer{Patch: patch(`{"name": %q}`, w.id("name"))}
	case 2, 3:
		port := 1 + w.rng.IntN(1000)
		return loadbalancer.CreateListener{Spec: events.Listener{
			ID: w.id("listener"), ProjectID: project, LoadBalancerID: id, Name: ptr("l"), AdminStateUp: true,
			Protocol: "HTTP", ProtocolPort: port, ConnectionLimit: -1, ClientAuthentication: "NONE",
			TimeoutClientData: 50000, TimeoutMemberConnect: 5000, TimeoutMemberData: 50000, Tags: []string{},
		}}
	case 4:
		if len(listeners) > 0 {
			return loadbalancer.UpdateListener{ListenerID: pick(w.rng, listeners), Patch: patch(`{"description": %q}`, w.id("d"))}
		}
	case 5:
		if len(listeners) > 0 {
			return loadbalancer.DeleteListener{ListenerID: pick(w.rng, listeners)}
		}
	case 6, 7:
		spec := events.Pool{ID: w.id("pool"), ProjectID: project, LoadBalancerID: id, Name: ptr("p"),
			AdminStateUp: true, Protocol: "HTTP", LBAlgorithm: "ROUND_ROBIN", Tags: []string{}}
		if len(listeners) > 0 && w.rng.IntN(2) == 0 {
			spec.ListenerID = pick(w.rng, listeners)
		}
		return loadbalancer.CreatePool{Spec: spec}
	case 8, 9:
		if len(pools) > 0 {
			return loadbalancer.CreateMember{Spec: events.Member{ID: w.id("member"), ProjectID: project,
				PoolID: pick(w.rng, pools), AdminStateUp: true, Weight: 1, Tags: []string{},
				Address: fmt.Sprintf("10.1.%d.%d", w.rng.IntN(250), 1+w.rng.IntN(250)), ProtocolPort: 80}}
		}
	case 10:
		if len(members) > 0 {
			m := s.Members[pick(w.rng, members)]
			return loadbalancer.DeleteMember{PoolID: m.Spec.PoolID, MemberID: m.Spec.ID}
		}
	case 11:
		if len(pools) > 0 {
			return loadbalancer.CreateHealthMonitor{Spec: events.HealthMonitor{ID: w.id("hm"), ProjectID: project,
				PoolID: pick(w.rng, pools), AdminStateUp: true, Type: "TCP", Delay: 5, Timeout: 3, MaxRetries: 3,
				MaxRetriesDown: 3, Tags: []string{}}}
		}
	case 12:
		if w.rng.IntN(3) == 0 {
			return loadbalancer.DeleteLoadBalancer{Cascade: true}
		}
	case 13:
		return loadbalancer.RecordOperatingStatuses{Change: events.OperatingStatusesChanged{
			LoadBalancerID: id, LoadBalancer: pick(w.rng, []string{"ONLINE", "DEGRADED", "ERROR"})}}
	}
	return loadbalancer.UpdateLoadBalancer{Patch: patch(`{"description": %q}`, w.id("d"))}
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func ptr[T any](v T) *T { return &v }

func patch(format string, args ...any) loadbalancer.Patch {
	var p loadbalancer.Patch
	if err := json.Unmarshal(fmt.Appendf(nil, format, args...), &p); err != nil {
		panic(err) // our own literals
	}
	return p
}
