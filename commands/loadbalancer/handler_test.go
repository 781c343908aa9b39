package loadbalancer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/events"
)

func newTestHandler(store eventstore.Store) *Handler {
	return NewHandler(store, events.NewRegistry(), nil)
}

func mustExecute(t *testing.T, h *Handler, cmd Command) Result {
	t.Helper()
	res, err := h.Execute(context.Background(), lbID, cmd, events.Metadata{Actor: events.Actor{ProjectID: project}})
	if err != nil {
		t.Fatalf("%T: %v", cmd, err)
	}
	return res
}

// activate drives a created load balancer to ACTIVE through the saga commands.
func activate(t *testing.T, h *Handler) {
	t.Helper()
	mustExecute(t, h, CreateLoadBalancer{Spec: lbSpec()})
	mustExecute(t, h, RecordVipAllocated{Vip: events.VipAllocated{VipAddress: "10.0.0.10", VipPortID: "port-1"}})
	mustExecute(t, h, RecordAmphoraBooted{Amphora: events.Amphora{ID: "amp-1"}})
	mustExecute(t, h, ActivateLoadBalancer{})
}

func TestHandlerExecute(t *testing.T) {
	ctx := context.Background()
	store := newMemStore()
	h := newTestHandler(store)

	res := mustExecute(t, h, CreateLoadBalancer{Spec: lbSpec()})
	if res.Position != 1 || len(res.Events) != 1 || res.State.LoadBalancer.ProvisioningStatus != PendingCreate {
		t.Fatalf("create: position %d, %d events, status %s", res.Position, len(res.Events), res.State.LoadBalancer.ProvisioningStatus)
	}
	if res.Events[0].Actor.ProjectID != project || res.Events[0].Type != "loadbalancer.create_requested" {
		t.Fatalf("envelope: %+v", res.Events[0])
	}
	if !res.State.LoadBalancer.CreatedAt.Equal(res.Events[0].Time) {
		t.Fatalf("created_at %v must be the stored event time %v", res.State.LoadBalancer.CreatedAt, res.Events[0].Time)
	}

	_, err := h.Execute(ctx, lbID, CreateLoadBalancer{Spec: lbSpec()}, events.Metadata{})
	var e *Error
	if !errors.As(err, &e) || e.Kind != Conflict {
		t.Fatalf("second create: %v, want Conflict", err)
	}

	mustExecute(t, h, RecordVipAllocated{Vip: events.VipAllocated{VipAddress: "10.0.0.10"}})
	again := mustExecute(t, h, RecordVipAllocated{Vip: events.VipAllocated{VipAddress: "10.0.0.10"}})
	if again.Position != 0 || len(again.Events) != 0 || again.State.Version != 2 {
		t.Fatalf("repeated saga command: position %d, %d events, version %d", again.Position, len(again.Events), again.State.Version)
	}
	mustExecute(t, h, ActivateLoadBalancer{})

	res = mustExecute(t, h, CreateListener{Spec: listenerSpec("l-1", "HTTP", 80)})
	if res.Position != 4 || res.State.Version != 4 || res.State.LoadBalancer.ProvisioningStatus != PendingUpdate {
		t.Fatalf("listener: position %d version %d status %s", res.Position, res.State.Version, res.State.LoadBalancer.ProvisioningStatus)
	}
	loaded, err := h.Load(ctx, lbID)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Version != 4 || loaded.Listeners["l-1"] == nil || loaded.Listeners["l-1"].ProvisioningStatus != PendingCreate {
		t.Fatalf("Load disagrees with Execute: %+v", loaded)
	}

	orphan := listenerSpec("l-2", "HTTP", 81)
	orphan.LoadBalancerID = "lb-x"
	_, err = h.Execute(ctx, "lb-x", CreateListener{Spec: orphan}, events.Metadata{})
	if !errors.As(err, &e) || e.Kind != NotFound || e.Message != "Load Balancer lb-x not found." {
		t.Fatalf("listener on unknown LB: %v", err)
	}
	empty, err := h.Load(ctx, "lb-x")
	if err != nil || empty.Exists || empty.ID != "lb-x" {
		t.Fatalf("Load of an unknown LB: %+v %v", empty, err)
	}
}

// flakyStore fails the first n appends with ErrConcurrency, or every
// append with err.
type flakyStore struct {
	*memStore
	lose  atomic.Int32
	err   error
	tries atomic.Int32
}

func (f *flakyStore) Append(ctx context.Context, stream string, expected int64, evs []events.Envelope) ([]events.Envelope, error) {
	f.tries.Add(1)
	if f.err != nil {
		return nil, f.err
	}
	if f.lose.Add(-1) >= 0 {
		return nil, eventstore.ErrConcurrency
	}
	return f.memStore.Append(ctx, stream, expected, evs)
}

func TestHandlerRetries(t *testing.T) {
	ctx := context.Background()

	f := &flakyStore{memStore: newMemStore()}
	f.lose.Store(3)
	h := newTestHandler(f)
	res, err := h.Execute(ctx, lbID, CreateLoadBalancer{Spec: lbSpec()}, events.Metadata{})
	if err != nil || res.Position != 1 || f.tries.Load() != 4 {
		t.Fatalf("after 3 lost races: %v, position %d, %d tries", err, res.Position, f.tries.Load())
	}

	f = &flakyStore{memStore: newMemStore()}
	f.lose.Store(1000)
	h = newTestHandler(f)
	_, err = h.Execute(ctx, lbID, CreateLoadBalancer{Spec: lbSpec()}, events.Metadata{})
	if !errors.Is(err, eventstore.ErrConcurrency) || f.tries.Load() != maxAttempts {
		t.Fatalf("always losing: %v after %d tries, want ErrConcurrency after %d", err, f.tries.Load(), maxAttempts)
	}

	boom := errors.New("disk full")
	f = &flakyStore{memStore: newMemStore(), err: boom}
	h = newTestHandler(f)
	_, err = h.Execute(ctx, lbID, CreateLoadBalancer{Spec: lbSpec()}, events.Metadata{})
	if !errors.Is(err, boom) || f.tries.Load() != 1 {
		t.Fatalf("store failure: %v after %d tries, want it wrapped after 1", err, f.tries.Load())
	}

	f = &flakyStore{memStore: newMemStore()}
	f.lose.Store(1000)
	h = newTestHandler(f)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = h.Execute(cctx, lbID, CreateLoadBalancer{Spec: lbSpec()}, events.Metadata{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled while backing off: %v", err)
	}
}

// barrierStore holds every first read of the stream until n readers have
// read, so that n writers decide on the same state and race to append.
type barrierStore struct {
	*memStore
	n       int32
	reads   atomic.Int32
	release chan struct{}
	once    sync.Once
}

func (b *barrierStore) ReadStream(ctx context.Context, stream string, after int64) ([]events.Envelope, error) {
	evs, err := b.memStore.ReadStream(ctx, stream, after)
	if r := b.reads.Add(1); r <= b.n {
		if r == b.n {
			b.once.Do(func() { close(b.release) })
		}
		select {
		case <-b.release:
		case <-time.After(5 * time.Second):
			return nil, fmt.Errorf("barrier: only %d of %d readers arrived", b.reads.Load(), b.n)
		}
	}
	return evs, err
}

func TestHandlerConcurrentChildCreates(t *testing.T) {
	const n = 8
	base := newMemStore()
	activate(t, newTestHandler(base))
	before, _ := base.Head(context.Background())

	bs := &barrierStore{memStore: base, n: n, release: make(chan struct{})}
	h := newTestHandler(bs)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := listenerSpec(fmt.Sprintf("l-%d", i), "TCP", 1000+i)
			_, errs[i] = h.Execute(context.Background(), lbID, CreateListener{Spec: l}, events.Metadata{})
		}()
	}
	wg.Wait()

	wins := 0
	for i, err := range errs {
		var e *Error
		switch {
		case err == nil:
			wins++
		case errors.As(err, &e) && e.Kind == Immutable && e.Message == "Load Balancer lb-1 is immutable and cannot be updated.":
		default:
			t.Errorf("writer %d: %v, want success or Immutable", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d writers succeeded, want exactly 1", wins)
	}

	envs, _ := base.ReadStream(context.Background(), events.StreamFor(lbID), 0)
	for i, env := range envs {
		if env.Version != int64(i+1) {
			t.Fatalf("stream versions not contiguous: index %d has version %d", i, env.Version)
		}
	}
	head, _ := base.Head(context.Background())
	if head != before+1 || len(envs) != int(before)+1 {
		t.Fatalf("head %d, stream %d events; want exactly one more than %d", head, len(envs), before)
	}
	s, err := h.Load(context.Background(), lbID)
	if err != nil || len(s.Listeners) != 1 || s.LoadBalancer.ProvisioningStatus != PendingUpdate {
		t.Fatalf("final state: %d listeners, LB %s, err %v", len(s.Listeners), s.LoadBalancer.ProvisioningStatus, err)
	}
}

// Concurrent saga outcomes on the same fact: one is recorded, the
// others see it and record nothing.
func TestHandlerConcurrentIdempotentSagaCommands(t *testing.T) {
	const n = 6
	base := newMemStore()
	mustExecute(t, newTestHandler(base), CreateLoadBalancer{Spec: lbSpec()})
	bs := &barrierStore{memStore: base, n: n, release: make(chan struct{})}
	h := newTestHandler(bs)
	var wg sync.WaitGroup
	var recorded atomic.Int32
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := h.Execute(context.Background(), lbID, RecordAmphoraBooted{Amphora: events.Amphora{ID: "amp-1"}}, events.Metadata{})
			if err != nil {
				t.Errorf("saga command: %v", err)
			}
			if len(res.Events) > 0 {
				recorded.Add(1)
			}
		}()
	}
	wg.Wait()
	envs, _ := base.ReadStream(context.Background(), events.StreamFor(lbID), 0)
	if recorded.Load() != 1 || len(envs) != 2 {
		t.Fatalf("recorded %d times, stream has %d events; want 1 and 2", recorded.Load(), len(envs))
	}
}
