package historytest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
)

// Appender is what Generate writes to; eventstore.Store satisfies it.
type Appender interface {
	Append(ctx context.Context, stream string, expectedVersion int64, evs []events.Envelope) ([]events.Envelope, error)
}

// GenerateOptions shape a generated store.
type GenerateOptions struct {
	Events int // at least this many events are appended
	// InFlight load balancers have their histories interleaved in the
	// store (default 1000), each appended in Parts appends (default 3):
	// a reader of the whole store meets each graph several times, far
	// apart, as in a store written by many clients.
	InFlight int
	Parts    int
	Seed     uint64
	Projects int // load balancers are spread over this many projects (default 10)
	// Writers append concurrently (default 1), each its share of a
	// wave's histories: a store that groups concurrent appends into one
	// transaction (PostgreSQL's) needs several.
	Writers int
	// Progress, when set, is called after each wave of InFlight histories
	// with the events appended so far.
	Progress func(appended int64)
}

// Generated describes what Generate appended.
type Generated struct {
	Events        int64
	LoadBalancers int
	Appends       int
}

// Generate fills a store quickly with realistic histories: each load
// balancer's whole life is decided by the real aggregate (Decide and
// Evolve, no store read): created with its VIP, an amphora booted,
// activated; a listener, a pool, a monitor and three members added, each
// applied; members seen ONLINE; a member and the load balancer updated;
// some failed over, some deleted with their amphora and VIP released —
// about 23 events each. Histories are decided on one goroutine while the
// previous wave is appended on the caller's.
func Generate(ctx context.Context, store Appender, opt GenerateOptions) (Generated, error) {
	if opt.Events <= 0 {
		return Generated{}, errors.New("historytest: Generate needs Events > 0")
	}
	if opt.InFlight <= 0 {
		opt.InFlight = 1000
	}
	if opt.Parts <= 0 {
		opt.Parts = 3
	}
	if opt.Projects <= 0 {
		opt.Projects = 10
	}
	if opt.Writers <= 0 {
		opt.Writers = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	waves := make(chan [][]events.Envelope, 1)
	decided := make(chan error, 1)
	go func() {
		defer close(waves)
		decided <- decideWaves(ctx, opt, waves)
	}()
	var out Generated
	for wave := range waves {
		if err := appendWave(ctx, store, wave, opt.Parts, opt.Writers, &out); err != nil {
			cancel()
			<-decided
			return out, err
		}
		if opt.Progress != nil {
			opt.Progress(out.Events)
		}
	}
	return out, <-decided
}

// decideWaves sends waves of histories until opt.Events are decided.
func decideWaves(ctx context.Context, opt GenerateOptions, waves chan<- [][]events.Envelope) error {
	g := generator{rng: rand.New(rand.NewPCG(opt.Seed, 11)), reg: events.NewRegistry(), projects: opt.Projects,
		clock: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	total := 0
	for total < opt.Events {
		wave := make([][]events.Envelope, 0, opt.InFlight)
		for range opt.InFlight {
			h, err := g.history()
			if err != nil {
				return err
			}
			wave = append(wave, h)
			total += len(h)
			if total >= opt.Events {
				break
			}
		}
		select {
		case waves <- wave:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// appendWave appends each history in parts, part 1 of every history, then
// part 2, ...; writers goroutines share the histories of a part.
func appendWave(ctx context.Context, store Appender, wave [][]events.Envelope, parts, writers int, out *Generated) error {
	out.LoadBalancers += len(wave)
	for p := range parts {
		errs := make(chan error, writers)
		var appends, appended atomic.Int64
		for w := range writers {
			go func() {
				for i := w; i < len(wave); i += writers {
					h := wave[i]
					from, to := len(h)*p/parts, len(h)*(p+1)/parts
					if from == to {
						continue
					}
					part := h[from:to]
					for i := range part {
						part[i].Time = time.Time{} // the store's clock: times grow with positions (one writer)
					}
					if _, err := store.Append(ctx, h[from].Stream, int64(from), part); err != nil {
						errs <- fmt.Errorf("historytest: append %s: %w", h[from].Stream, err)
						return
					}
					appends.Add(1)
					appended.Add(int64(to - from))
				}
				errs <- nil
			}()
		}
		var err error
		for range writers {
			err = errors.Join(err, <-errs)
		}
		out.Appends += int(appends.Load())
		out.Events += appended.Load()
		if err != nil {
			return err
		}
	}
	return nil
}

type generator struct {
	rng      *rand.Rand
	reg      *events.Registry
	projects int
	clock    time.Time
}

func (g *generator) id(prefix string) string {
	return fmt.Sprintf("%s-%08x-%08x", prefix, g.rng.Uint32(), g.rng.Uint32())
}

// history decides one load balancer's life.
func (g *generator) history() ([]events.Envelope, error) {
	lb := g.id("lb")
	project := fmt.Sprintf("project-%d", g.rng.IntN(g.projects))
	h := lifecycle{g: g, stream: events.StreamFor(lb), s: loadbalancer.NewStateFor(lb),
		tenant: events.Metadata{Actor: events.Actor{ProjectID: project, RequestID: g.id("req")}}}
	subnet := "subnet-1"
	h.do(true, loadbalancer.CreateLoadBalancer{Spec: events.LoadBalancer{ID: lb, ProjectID: project,
		Name: ptr("lb-" + lb[3:11]), Description: ptr(""), AdminStateUp: true, VipSubnetID: &subnet,
		Provider: "amphora", Tags: []string{"bench"}},
		Vip: &events.VipAllocated{LoadBalancerID: lb, VipAddress: fmt.Sprintf("10.%d.%d.%d", g.rng.IntN(250), g.rng.IntN(250), 1+g.rng.IntN(250)),
			VipPortID: g.id("port"), VipSubnetID: subnet, VipNetworkID: "net-1"}})
	amp := g.id("amp")
	h.do(false, loadbalancer.RecordAmphoraBooted{Amphora: events.Amphora{ID: amp, ComputeID: g.id("vm"), Role: "STANDALONE",
		LBNetworkIP:   ptr(fmt.Sprintf("127.200.%d.%d", g.rng.IntN(250), 1+g.rng.IntN(250))),
		ComputeDriver: "noop", NetworkDriver: "noop", AmphoraDriver: "noop"}})
	h.do(false, loadbalancer.ActivateLoadBalancer{})

	listener, pool, hm := g.id("listener"), g.id("pool"), g.id("hm")
	h.do(true, loadbalancer.CreateListener{Spec: events.Listener{ID: listener, ProjectID: project, LoadBalancerID: lb,
		Name: ptr("http"), AdminStateUp: true, Protocol: "HTTP", ProtocolPort: 80, ConnectionLimit: -1,
		ClientAuthentication: "NONE", TimeoutClientData: 50000, TimeoutMemberConnect: 5000, TimeoutMemberData: 50000,
		InsertHeaders: map[string]string{}, Tags: []string{}}})
	h.applied()
	h.do(true, loadbalancer.CreatePool{Spec: events.Pool{ID: pool, ProjectID: project, LoadBalancerID: lb, ListenerID: listener,
		Name: ptr("web"), AdminStateUp: true, Protocol: "HTTP", LBAlgorithm: "ROUND_ROBIN", Tags: []string{}}})
	h.applied()
	h.do(true, loadbalancer.CreateHealthMonitor{Spec: events.HealthMonitor{ID: hm, ProjectID: project, PoolID: pool,
		Name: ptr("http"), AdminStateUp: true, Type: "HTTP", Delay: 5, Timeout: 3, MaxRetries: 3, MaxRetriesDown: 3,
		HTTPMethod: ptr("GET"), URLPath: ptr("/"), ExpectedCodes: ptr("200"), Tags: []string{}}})
	h.applied()
	members := map[string]string{}
	var first string
	for i := range 3 {
		m := g.id("member")
		if i == 0 {
			first = m
		}
		members[m] = "ONLINE"
		h.do(true, loadbalancer.CreateMember{Spec: events.Member{ID: m, ProjectID: project, PoolID: pool, AdminStateUp: true,
			Weight: 1, Address: fmt.Sprintf("10.9.%d.%d", i, 1+g.rng.IntN(250)), ProtocolPort: 8080, Tags: []string{}}})
		h.applied()
	}
	h.do(false, loadbalancer.RecordOperatingStatuses{Change: events.OperatingStatusesChanged{LoadBalancerID: lb,
		LoadBalancer: "ONLINE", Listeners: map[string]string{listener: "ONLINE"}, Pools: map[string]string{pool: "ONLINE"},
		Members: members, HealthMonitors: map[string]string{hm: "ONLINE"}}})
	h.do(true, loadbalancer.UpdateMember{PoolID: pool, MemberID: first, Patch: patch(`{"weight": %d}`, 2+g.rng.IntN(10))})
	h.applied()
	h.do(true, loadbalancer.UpdateLoadBalancer{Patch: patch(`{"description": %q}`, g.id("d"))})
	h.do(false, loadbalancer.ActivateLoadBalancer{})

	switch r := g.rng.IntN(20); {
	case r < 2: // deleted
		h.do(true, loadbalancer.DeleteLoadBalancer{Cascade: true})
		h.do(false, loadbalancer.RecordAmphoraDeleted{AmphoraID: amp, Reason: "load balancer deleted"})
		h.do(false, loadbalancer.RecordVipReleased{})
		h.do(false, loadbalancer.RecordLoadBalancerDeleted{})
	case r < 3: // failed over
		h.do(true, loadbalancer.FailoverLoadBalancer{})
		h.do(false, loadbalancer.RecordAmphoraBooted{Amphora: events.Amphora{ID: g.id("amp"), ComputeID: g.id("vm"),
			Role: "STANDALONE", ComputeDriver: "noop", NetworkDriver: "noop", AmphoraDriver: "noop"}})
		h.do(false, loadbalancer.RecordAmphoraDeleted{AmphoraID: amp, Reason: "failed over"})
		h.do(false, loadbalancer.ActivateLoadBalancer{})
	default:
		members[first] = "DEGRADED"
		h.do(false, loadbalancer.RecordOperatingStatuses{Change: events.OperatingStatusesChanged{LoadBalancerID: lb,
			Members: map[string]string{first: "ERROR"}, Pools: map[string]string{pool: "DEGRADED"}, LoadBalancer: "DEGRADED"}})
	}
	return h.out, h.err
}

// lifecycle decides commands on one graph, in memory.
type lifecycle struct {
	g      *generator
	stream string
	s      loadbalancer.State
	tenant events.Metadata
	out    []events.Envelope
	err    error
}

func (h *lifecycle) applied() { h.do(false, loadbalancer.RecordConfigurationApplied{}) }

// do decides cmd and folds its events; tenant commands carry the tenant's
// actor, saga outcomes none.
func (h *lifecycle) do(tenant bool, cmd loadbalancer.Command) {
	if h.err != nil {
		return
	}
	evs, err := loadbalancer.Decide(h.s, cmd)
	if err != nil {
		h.err = fmt.Errorf("historytest: %T refused: %w", cmd, err)
		return
	}
	md := events.Metadata{}
	if tenant {
		md = h.tenant
	}
	for _, ev := range evs {
		env, err := h.g.reg.Encode(h.stream, ev, md)
		if err != nil {
			h.err = err
			return
		}
		h.g.clock = h.g.clock.Add(time.Millisecond)
		env.Time = h.g.clock
		env.Version = h.s.Version + 1
		h.s = loadbalancer.Evolve(h.s, env.Version, env.Time, ev)
		h.out = append(h.out, env)
	}
}
