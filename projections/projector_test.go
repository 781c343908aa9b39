package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
)

// memSource is an in-memory Source holding real encoded envelopes.
type memSource struct {
	reg *events.Registry

	mu          sync.Mutex
	envs        []events.Envelope
	versions    map[string]int64
	changed     chan struct{}
	readStreams int
	replayAll   bool // Subscribe ignores afterPosition (redelivery)
}

func newMemSource() *memSource {
	return &memSource{reg: events.NewRegistry(), versions: map[string]int64{}, changed: make(chan struct{})}
}

func (m *memSource) append(t testing.TB, lb string, evs ...events.Event) int64 {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	stream := events.StreamFor(lb)
	for _, e := range evs {
		env, err := m.reg.Encode(stream, e, events.Metadata{})
		if err != nil {
			t.Fatal(err)
		}
		m.appendEnv(env)
	}
	return int64(len(m.envs))
}

// appendEnv stores env as the next position (the caller holds mu).
func (m *memSource) appendEnv(env events.Envelope) {
	m.versions[env.Stream]++
	env.Version = m.versions[env.Stream]
	env.Position = int64(len(m.envs) + 1)
	env.Time = time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC).Add(time.Duration(env.Position) * time.Second)
	m.envs = append(m.envs, env)
	close(m.changed)
	m.changed = make(chan struct{})
}

func (m *memSource) appendRaw(env events.Envelope) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.appendEnv(env)
	return int64(len(m.envs))
}

func (m *memSource) Subscribe(ctx context.Context, after int64, handle func(context.Context, events.Envelope) error) error {
	pos := after
	if m.replayAll {
		pos = 0
	}
	for {
		m.mu.Lock()
		pending := append([]events.Envelope(nil), m.envs[min(int(pos), len(m.envs)):]...)
		changed := m.changed
		m.mu.Unlock()
		for _, env := range pending {
			if err := handle(ctx, env); err != nil {
				return fmt.Errorf("handler: %w", err)
			}
			pos = env.Position
		}
		if len(pending) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

func (m *memSource) ReadStream(ctx context.Context, stream string, after int64) ([]events.Envelope, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.readStreams++
	var out []events.Envelope
	for _, env := range m.envs {
		if env.Stream == stream && env.Version > after {
			out = append(out, env)
		}
	}
	return out, ctx.Err()
}

// fold is the state of lb folded straight from the source with Evolve: what
// the HTTP layer would render after a command.
func (m *memSource) fold(t testing.TB, lb string) loadbalancer.State {
	t.Helper()
	envs, _ := m.ReadStream(context.Background(), events.StreamFor(lb), 0)
	s := loadbalancer.NewState()
	for _, env := range envs {
		ev, err := m.reg.Decode(env)
		if err != nil {
			t.Fatal(err)
		}
		s = loadbalancer.Evolve(s, env.Version, env.Time, ev)
	}
	return s
}

type runningProjector struct {
	p      *Projector
	cancel context.CancelFunc
	done   chan error
}

func startProjector(t testing.TB, rm *ReadModel, src Source, tune func(*Projector)) *runningProjector {
	t.Helper()
	p := NewProjector(rm, src, events.NewRegistry(), slog.New(slog.DiscardHandler))
	if tune != nil {
		tune(p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningProjector{p: p, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- p.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *runningProjector) stop(t testing.TB) {
	t.Helper()
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok && err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("projector stopped with %v", err)
		}
		if ok {
			close(r.done)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("projector did not stop")
	}
}

func waitFor(t testing.TB, rm *ReadModel, pos int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rm.WaitFor(ctx, pos); err != nil {
		t.Fatalf("read model did not reach %d: %v", pos, err)
	}
}

// assertMatches checks the read model holds exactly the rendered graphs of
// the given load balancers: every object's document equals its rendering of
// the state folded with Evolve, and nothing else is stored.
func assertMatches(t *testing.T, rm *ReadModel, src *memSource, lbs ...string) {
	t.Helper()
	want := map[rowKey]row{}
	for _, lb := range lbs {
		rows, err := renderRows(src.fold(t, lb))
		if err != nil {
			t.Fatal(err)
		}
		for k, r := range rows {
			want[k] = r
		}
	}
	got := map[rowKey]string{}
	for tb := tLoadBalancers; tb <= statusTable; tb++ {
		key := "id"
		if tb == statusTable {
			key = "loadbalancer_id"
		}
		rows, err := rm.read.Query(`SELECT ` + key + `, doc FROM ` + tb.String())
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id, doc string
			if err := rows.Scan(&id, &doc); err != nil {
				t.Fatal(err)
			}
			got[rowKey{tb, id}] = doc
		}
		rows.Close()
	}
	for k, r := range want {
		if got[k] != r.doc {
			t.Errorf("%s %s:\n got %s\nwant %s", k.table, k.id, got[k], r.doc)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s %s stored but not in the state", k.table, k.id)
		}
	}
}

func strp(s string) *string { return &s }

func lbCreate(id, project string) events.Event {
	return events.LoadBalancerCreateRequested{LoadBalancer: events.LoadBalancer{
		ID: id, ProjectID: project, Name: strp("lb " + id), AdminStateUp: true, VipSubnetID: strp("subnet"), Provider: "amphora",
	}}
}

func lbActivate(id string) []events.Event {
	return []events.Event{
		events.VipAllocated{LoadBalancerID: id, VipAddress: "10.0.0.10", VipPortID: "port-" + id, VipSubnetID: "subnet", VipNetworkID: "net"},
		events.AmphoraBooted{LoadBalancerID: id, Amphora: events.Amphora{ID: "amp-" + id, LoadBalancerID: id}},
		events.LoadBalancerActivated{LoadBalancerID: id},
	}
}

func applied(id string) events.Event { return events.ConfigurationApplied{LoadBalancerID: id} }

func TestProjectorLifecycle(t *testing.T) {
	rm := openTest(t)
	src := newMemSource()
	startProjector(t, rm, src, nil)
	ctx := context.Background()
	const lb = "lb-1"
	step := func(name string, evs ...events.Event) {
		t.Helper()
		pos := src.append(t, lb, evs...)
		waitFor(t, rm, pos)
		t.Run(name, func(t *testing.T) { assertMatches(t, rm, src, lb) })
	}

	step("create", lbCreate(lb, "p1"))
	got, err := rm.GetLoadBalancer(ctx, lb)
	if err != nil || got.ProvisioningStatus != loadbalancer.PendingCreate || got.OperatingStatus != loadbalancer.Offline {
		t.Fatalf("after create: %+v, %v", got, err)
	}
	if ids, _ := rm.PendingLoadBalancers(ctx); len(ids) != 1 || ids[0] != lb {
		t.Errorf("pending %v", ids)
	}
	step("active", lbActivate(lb)...)
	got, _ = rm.GetLoadBalancer(ctx, lb)
	if got.ProvisioningStatus != loadbalancer.Active || got.VipAddress == nil || *got.VipAddress != "10.0.0.10" {
		t.Fatalf("after activation: %+v", got)
	}

	listener := events.Listener{ID: "l-1", ProjectID: "p1", LoadBalancerID: lb, AdminStateUp: true, Protocol: "HTTP", ProtocolPort: 80, ConnectionLimit: -1}
	step("listener requested", events.ListenerCreateRequested{Listener: listener})
	if got, _ := rm.GetLoadBalancer(ctx, lb); got.ProvisioningStatus != loadbalancer.PendingUpdate || len(got.Listeners) != 1 {
		t.Errorf("LB while a listener is created: %+v", got)
	}
	step("listener applied", applied(lb))

	pool := events.Pool{ID: "p-1", ProjectID: "p1", LoadBalancerID: lb, ListenerID: "l-1", AdminStateUp: true, Protocol: "HTTP", LBAlgorithm: "ROUND_ROBIN"}
	step("pool", events.PoolCreateRequested{Pool: pool}, applied(lb))
	for i := 1; i <= 3; i++ {
		m := events.Member{ID: fmt.Sprintf("m-%d", i), ProjectID: "p1", PoolID: "p-1", AdminStateUp: true, Address: fmt.Sprintf("10.0.1.%d", i), ProtocolPort: 80, Weight: 1}
		step("member "+m.ID, events.MemberCreateRequested{LoadBalancerID: lb, Member: m}, applied(lb))
	}
	hm := events.HealthMonitor{ID: "hm-1", ProjectID: "p1", PoolID: "p-1", AdminStateUp: true, Type: "HTTP", Delay: 5, Timeout: 3, MaxRetries: 3, MaxRetriesDown: 3}
	step("monitor", events.HealthMonitorCreateRequested{LoadBalancerID: lb, HealthMonitor: hm}, applied(lb))
	step("operating statuses", events.OperatingStatusesChanged{LoadBalancerID: lb, LoadBalancer: "ONLINE", Members: map[string]string{"m-1": "ONLINE", "m-2": "ERROR"}})

	step("member delete requested", events.MemberDeleteRequested{LoadBalancerID: lb, PoolID: "p-1", MemberID: "m-2"})
	if m, err := rm.GetMember(ctx, "p-1", "m-2"); err != nil || m.ProvisioningStatus != loadbalancer.PendingDelete {
		t.Errorf("member being deleted: %+v, %v", m, err)
	}
	step("member deleted", applied(lb))
	if _, err := rm.GetMember(ctx, "p-1", "m-2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted member: %v", err)
	}
	tree, err := rm.StatusTree(ctx, lb)
	if err != nil || len(tree.LoadBalancer.Listeners) != 1 || len(tree.LoadBalancer.Listeners[0].Pools) != 1 ||
		len(tree.LoadBalancer.Listeners[0].Pools[0].Members) != 2 || tree.LoadBalancer.Listeners[0].Pools[0].HealthMonitor == nil {
		t.Errorf("status tree %+v, %v", tree, err)
	}

	step("delete requested", events.LoadBalancerDeleteRequested{LoadBalancerID: lb, Cascade: true})
	if got, _ := rm.GetLoadBalancer(ctx, lb); got.ProvisioningStatus != loadbalancer.PendingDelete {
		t.Errorf("LB being deleted: %+v", got)
	}
	step("deleted", events.VipReleased{LoadBalancerID: lb}, events.LoadBalancerDeleted{LoadBalancerID: lb})
	if _, err := rm.GetLoadBalancer(ctx, lb); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted LB: %v", err)
	}
}

// A projector stopped and started again (even on a reopened file) resumes at
// the checkpoint committed with the rows: nothing is applied twice.
func TestProjectorRestartResumesAtCheckpoint(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/rm.db"
	rm, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	src := newMemSource()
	for i := 0; i < 5; i++ {
		src.append(t, fmt.Sprintf("lb-%d", i), lbCreate(fmt.Sprintf("lb-%d", i), "p"))
	}
	run := startProjector(t, rm, src, nil)
	waitFor(t, rm, 5)
	run.stop(t)
	_ = rm.Close()

	// Events while stopped: activations and a member batch.
	var last int64
	for i := 0; i < 5; i++ {
		last = src.append(t, fmt.Sprintf("lb-%d", i), lbActivate(fmt.Sprintf("lb-%d", i))...)
	}
	rm, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer rm.Close()
	if cp, _ := rm.Checkpoint(ctx); cp != 5 {
		t.Fatalf("checkpoint after reopen %d, want 5", cp)
	}
	startProjector(t, rm, src, nil)
	waitFor(t, rm, last)
	assertMatches(t, rm, src, "lb-0", "lb-1", "lb-2", "lb-3", "lb-4")
	page, err := rm.ListLoadBalancers(ctx, ListOptions{})
	if err != nil || len(page.Items) != 5 {
		t.Fatalf("%d load balancers, %v", len(page.Items), err)
	}
	for _, v := range page.Items {
		if v.ProvisioningStatus != loadbalancer.Active {
			t.Errorf("%s is %s", v.ID, v.ProvisioningStatus)
		}
	}
}

// Redelivered envelopes (at or below the checkpoint) change nothing.
func TestProjectorSkipsRedelivery(t *testing.T) {
	rm := openTest(t)
	src := newMemSource()
	pos := src.append(t, "lb-1", lbCreate("lb-1", "p"))
	pos = src.append(t, "lb-1", lbActivate("lb-1")...)
	r := startProjector(t, rm, src, nil)
	waitFor(t, rm, pos)
	r.stop(t)

	src.replayAll = true
	pos = src.append(t, "lb-1", events.LoadBalancerUpdateRequested{LoadBalancer: events.LoadBalancer{
		ID: "lb-1", ProjectID: "p", Name: strp("renamed"), AdminStateUp: true, Provider: "amphora"}})
	startProjector(t, rm, src, nil)
	waitFor(t, rm, pos)
	assertMatches(t, rm, src, "lb-1")
	if got, _ := rm.GetLoadBalancer(context.Background(), "lb-1"); *got.Name != "renamed" || got.ProvisioningStatus != loadbalancer.PendingUpdate {
		t.Errorf("after replay: %+v", got)
	}
}

// With a cache of one graph, interleaved streams miss every time: each miss
// reloads the stream and folds only the versions before the envelope.
func TestProjectorCacheMiss(t *testing.T) {
	rm := openTest(t)
	src := newMemSource()
	var pos int64
	for _, lb := range []string{"a", "b"} {
		pos = src.append(t, lb, lbCreate(lb, "p"))
	}
	startProjector(t, rm, src, func(p *Projector) { p.fold.cache = newGraphCache(1) })
	waitFor(t, rm, pos)
	for round := 0; round < 3; round++ {
		for _, lb := range []string{"a", "b"} {
			ev := events.LoadBalancerUpdateRequested{LoadBalancer: events.LoadBalancer{
				ID: lb, ProjectID: "p", Name: strp(fmt.Sprintf("%s-%d", lb, round)), AdminStateUp: true, Provider: "amphora"}}
			src.append(t, lb, ev)
			pos = src.append(t, lb, events.LoadBalancerActivated{LoadBalancerID: lb})
			other := map[string]string{"a": "b", "b": "a"}[lb]
			pos = src.append(t, other, events.OperatingStatusesChanged{
				LoadBalancerID: other, LoadBalancer: []string{"ONLINE", "DEGRADED", "OFFLINE"}[round]})
		}
	}
	waitFor(t, rm, pos)
	assertMatches(t, rm, src, "a", "b")
	src.mu.Lock()
	reads := src.readStreams
	src.mu.Unlock()
	// every stream switch is a miss: at least one reload per appended group
	if reads < 6 {
		t.Errorf("%d stream reads: the cache of one graph was not missed", reads)
	}
}

// Catch-up commits many envelopes per transaction, and a lone event after
// it is committed at once.
func TestProjectorBatchesCatchUp(t *testing.T) {
	rm := openTest(t)
	src := newMemSource()
	var pos int64
	for i := 0; i < 300; i++ {
		lb := fmt.Sprintf("lb-%03d", i)
		src.append(t, lb, lbCreate(lb, "p"))
		pos = src.append(t, lb, lbActivate(lb)...)
	}
	r := startProjector(t, rm, src, nil)
	waitFor(t, rm, pos)
	if n := r.p.commits.Load(); n == 0 || n > pos/10 {
		t.Errorf("%d commits for %d events: not batched", n, pos)
	}
	start := time.Now()
	pos = src.append(t, "lb-000", events.OperatingStatusesChanged{LoadBalancerID: "lb-000", LoadBalancer: "ONLINE"})
	waitFor(t, rm, pos)
	if d := time.Since(start); d > time.Second {
		t.Errorf("a lone event took %v", d)
	}
	if got, _ := rm.GetLoadBalancer(context.Background(), "lb-000"); got.OperatingStatus != "ONLINE" {
		t.Errorf("lone event not applied: %+v", got)
	}
	page, err := rm.ListLoadBalancers(context.Background(), ListOptions{Filters: map[string][]string{"provisioning_status": {"ACTIVE"}}})
	if err != nil || len(page.Items) != 300 {
		t.Errorf("%d ACTIVE load balancers, %v", len(page.Items), err)
	}
}

// Events of other streams are not projected but move the checkpoint.
func TestProjectorIgnoresOtherStreams(t *testing.T) {
	rm := openTest(t)
	src := newMemSource()
	env, err := src.reg.Encode("quota-p1", events.LoadBalancerActivated{LoadBalancerID: "x"}, events.Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	env.Type = "quota.changed" // unknown, but not ours to decode
	pos := src.appendRaw(env)
	startProjector(t, rm, src, nil)
	waitFor(t, rm, pos)
	assertMatches(t, rm, src)
}

// An event that cannot be decoded stops the projector with an error and the
// checkpoint stays before it: it is never silently skipped.
func TestProjectorStopsOnBadEvent(t *testing.T) {
	cases := []struct {
		name   string
		mangle func(*events.Envelope)
		want   string
	}{
		{"unknown type", func(e *events.Envelope) { e.Type = "loadbalancer.teleported" }, "unknown event type"},
		{"bad payload", func(e *events.Envelope) { e.Data = json.RawMessage(`{"loadbalancer_id": 7}`) }, "decode"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rm := openTest(t)
			src := newMemSource()
			good := src.append(t, "lb-1", lbCreate("lb-1", "p"))
			env, err := src.reg.Encode(events.StreamFor("lb-1"), events.LoadBalancerActivated{LoadBalancerID: "lb-1"}, events.Metadata{})
			if err != nil {
				t.Fatal(err)
			}
			c.mangle(&env)
			src.appendRaw(env)

			p := NewProjector(rm, src, events.NewRegistry(), nil)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err = p.Run(ctx)
			if err == nil || errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Run = %v, want an error containing %q", err, c.want)
			}
			if cp, _ := rm.Checkpoint(ctx); cp != good {
				t.Errorf("checkpoint %d, want %d (before the bad event)", cp, good)
			}
			if got, err := rm.GetLoadBalancer(ctx, "lb-1"); err != nil || got.ProvisioningStatus != loadbalancer.PendingCreate {
				t.Errorf("events before the bad one: %+v, %v", got, err)
			}
		})
	}
}

var _ Source = eventstore.Store(nil) // the event store is a Source

// load folds only the versions before the envelope being projected, even
// when the stream already holds later ones.
func TestProjectorLoadFoldsOnlyEarlierVersions(t *testing.T) {
	src := newMemSource()
	src.append(t, "lb-1", lbCreate("lb-1", "p"))
	src.append(t, "lb-1", lbActivate("lb-1")...) // versions 2..4
	p := NewProjector(openTest(t), src, events.NewRegistry(), nil)
	g, err := p.fold.load(context.Background(), events.StreamFor("lb-1"), 3)
	if err != nil {
		t.Fatal(err)
	}
	if g.version != 2 || g.written != nil {
		t.Errorf("version %d written %v: want 2 and unknown rows", g.version, g.written)
	}
	if !g.state.VipAllocated || len(g.state.Amphorae) != 0 || g.state.LoadBalancer.ProvisioningStatus != loadbalancer.PendingCreate {
		t.Errorf("state is not the one at version 2: %+v", g.state)
	}
	if g, _ := p.fold.load(context.Background(), events.StreamFor("lb-1"), 1); g.version != 0 || g.written == nil || g.state.Exists {
		t.Errorf("a new stream: %+v", g)
	}
}
