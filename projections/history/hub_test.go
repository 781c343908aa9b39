package history_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/adapters/eventstore/sqlite"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/projections/history"
	"github.com/octavia-es/octavia-es/projections/history/historytest"
)

type hubEnv struct {
	store *sqlite.Store
	reg   *events.Registry
	cmds  *loadbalancer.Handler
	hub   *history.Hub
}

func newHubEnv(t *testing.T, capacity int) *hubEnv {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	reg := events.NewRegistry()
	return &hubEnv{store: store, reg: reg, cmds: loadbalancer.NewHandler(store, reg, nil),
		hub: history.NewHub(store, history.NewReader(store, reg), capacity, nil)}
}

func (e *hubEnv) write(t *testing.T, seed uint64, steps int) {
	t.Helper()
	if _, err := historytest.Run(context.Background(), e.cmds, rand.New(rand.NewPCG(seed, 9)), historytest.Options{
		LoadBalancers: 4, Steps: steps, Projects: []string{"p1", "p2"}, Full: true}); err != nil {
		t.Fatal(err)
	}
}

func (e *hubEnv) head(t *testing.T) int64 {
	t.Helper()
	h, err := e.store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// want is what a subscriber after position after with filter f must get:
// the matching events of the store, in order.
func (e *hubEnv) want(t *testing.T, f history.Filter, after, upTo int64) []int64 {
	t.Helper()
	ctx := context.Background()
	envs, err := e.store.ReadAll(ctx, after, int(upTo-after))
	if err != nil {
		t.Fatal(err)
	}
	r := history.NewReader(e.store, e.reg)
	var out []int64
	for _, env := range envs {
		ok, err := r.Match(ctx, f, env)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			out = append(out, env.Position)
		}
	}
	return out
}

// follower collects what one Follow delivers.
type follower struct {
	mu    sync.Mutex
	got   []int64
	items []history.Item
	done  chan error
	stop  context.CancelFunc
}

func (e *hubEnv) follow(f history.Filter, after int64, slow time.Duration) *follower {
	ctx, cancel := context.WithCancel(context.Background())
	fl := &follower{done: make(chan error, 1), stop: cancel}
	go func() {
		fl.done <- e.hub.Follow(ctx, f, after, func(en history.Entry) error {
			var it history.Item
			if err := json.Unmarshal(en.JSON, &it); err != nil {
				return err
			}
			if it.Position != en.Position || it.Type != en.Type {
				return fmt.Errorf("entry %d %s holds item %d %s", en.Position, en.Type, it.Position, it.Type)
			}
			fl.mu.Lock()
			fl.got = append(fl.got, en.Position)
			fl.items = append(fl.items, it)
			fl.mu.Unlock()
			time.Sleep(slow)
			return nil
		})
	}()
	return fl
}

// until waits for the follower to have received last (or fails).
func (fl *follower) until(t *testing.T, last int64) []int64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		fl.mu.Lock()
		got := slices.Clone(fl.got)
		fl.mu.Unlock()
		if len(got) > 0 && got[len(got)-1] >= last {
			return got
		}
		select {
		case err := <-fl.done:
			t.Fatalf("follow ended: %v", err)
		default:
		}
		time.Sleep(5 * time.Millisecond)
	}
	fl.mu.Lock()
	defer fl.mu.Unlock()
	t.Fatalf("did not reach %d: got %d events, last %v", last, len(fl.got), fl.got[max(0, len(fl.got)-1):])
	return nil
}

func (fl *follower) end(t *testing.T) {
	t.Helper()
	fl.stop()
	if err := <-fl.done; !errors.Is(err, context.Canceled) {
		t.Errorf("follow ended with %v", err)
	}
}

// TestHubDeliversEveryEventOnce: subscribers starting at the first event,
// in the middle, at the head and beyond it, filtered by project, type and
// load balancer, fast or slow (behind a ring of 16 events, so they read
// the store), while commands keep appending: each gets exactly the events
// of the store after its start that its filter selects, in order.
func TestHubDeliversEveryEventOnce(t *testing.T) {
	e := newHubEnv(t, 16)
	e.write(t, 1, 150)
	mid := e.head(t) / 2
	start := e.head(t)
	envs, _ := e.store.ReadAll(context.Background(), 0, 1)
	lb := history.LoadBalancerOf(envs[0])

	type sub struct {
		name  string
		f     history.Filter
		after int64
		slow  time.Duration
		fl    *follower
	}
	subs := []*sub{
		{name: "all from 0", after: 0},
		{name: "all from the middle, slow", after: mid, slow: time.Millisecond},
		{name: "p1 from the head", f: history.Filter{ProjectID: "p1"}, after: start},
		{name: "p2 from 0", f: history.Filter{ProjectID: "p2"}, after: 0},
		{name: "amphora events", f: history.Filter{Types: []string{"amphora.*"}}, after: 0},
		{name: "one load balancer", f: history.Filter{LoadBalancerID: lb}, after: 0},
		{name: "beyond the head", after: start + 20},
	}
	for _, s := range subs {
		s.fl = e.follow(s.f, s.after, s.slow)
	}
	e.write(t, 2, 150) // while they follow
	end := e.head(t)
	for _, s := range subs {
		t.Run(s.name, func(t *testing.T) {
			want := e.want(t, s.f, s.after, end)
			if len(want) == 0 {
				t.Fatal("nothing to deliver: the test would be weak")
			}
			got := s.fl.until(t, want[len(want)-1])
			if !slices.Equal(got, want) {
				t.Errorf("got %d events %v\nwant %d %v", len(got), got, len(want), want)
			}
			s.fl.end(t)
		})
	}
}

// The subscription runs only while someone follows, and starts again (at
// the head) for the next subscriber without losing anything it asks for.
func TestHubStopsAndRestarts(t *testing.T) {
	e := newHubEnv(t, 64)
	e.write(t, 3, 60)
	fl := e.follow(history.Filter{}, 0, 0)
	first := e.head(t)
	fl.until(t, first)
	fl.end(t)

	e.write(t, 4, 60) // nobody follows
	// Subscribers at the head are served from the ring alone.
	reads := history.HubStoreReads(e.hub)
	atHead := e.follow(history.Filter{}, e.head(t), 0)
	for !history.HubReady(e.hub, 1) { // at the head: nothing is written meanwhile
		time.Sleep(time.Millisecond)
	}
	e.write(t, 8, 30)
	atHead.until(t, e.head(t))
	if n := history.HubStoreReads(e.hub) - reads; n != 0 {
		t.Errorf("a subscriber at the head read the store %d times", n)
	}
	atHead.end(t)

	fl = e.follow(history.Filter{}, first, 0)
	e.write(t, 5, 30)
	end := e.head(t)
	if got, want := fl.until(t, end), e.want(t, history.Filter{}, first, end); !slices.Equal(got, want) {
		t.Errorf("after a restart: got %v, want %v", got, want)
	}
	fl.end(t)
}

// An event that cannot be rendered ends the subscribers that may select
// it, not the others.
func TestHubUnreadableEvent(t *testing.T) {
	e := newHubEnv(t, 16)
	e.write(t, 6, 30)
	bad := events.Envelope{Type: "loadbalancer.from_the_future", SchemaVersion: 1, Data: []byte(`{}`)}
	if _, err := e.store.Append(context.Background(), events.StreamFor("lb-x"), eventstore.ExpectAny, []events.Envelope{bad}); err != nil {
		t.Fatal(err)
	}
	all := e.follow(history.Filter{}, 0, 0)
	select {
	case err := <-all.done:
		if err == nil || !strings.Contains(err.Error(), "from_the_future") {
			t.Errorf("follow over an unknown event: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the unknown event did not end the subscription")
	}
	others := e.follow(history.Filter{Types: []string{"loadbalancer.create_requested"}}, 0, 0)
	e.write(t, 7, 20)
	end := e.head(t)
	want := e.want(t, history.Filter{Types: []string{"loadbalancer.create_requested"}}, 0, end)
	if got := others.until(t, want[len(want)-1]); !slices.Equal(got, want) {
		t.Errorf("filtered past the unknown event: %v, want %v", got, want)
	}
	others.end(t)
}

// gappedStore scales the positions of a store by 10: positions with gaps,
// as an EventStoreDB store's commit positions.
type gappedStore struct{ *sqlite.Store }

func scaled(envs []events.Envelope) []events.Envelope {
	for i := range envs {
		envs[i].Position *= 10
	}
	return envs
}

func (g gappedStore) ReadAll(ctx context.Context, after int64, limit int) ([]events.Envelope, error) {
	envs, err := g.Store.ReadAll(ctx, after/10, limit)
	return scaled(envs), err
}

func (g gappedStore) ReadStream(ctx context.Context, stream string, after int64) ([]events.Envelope, error) {
	envs, err := g.Store.ReadStream(ctx, stream, after)
	return scaled(envs), err
}

func (g gappedStore) Subscribe(ctx context.Context, after int64, h func(context.Context, events.Envelope) error) error {
	return g.Store.Subscribe(ctx, after/10, func(ctx context.Context, env events.Envelope) error {
		env.Position *= 10
		return h(ctx, env)
	})
}

func (g gappedStore) Head(ctx context.Context) (int64, error) {
	h, err := g.Store.Head(ctx)
	return h * 10, err
}

// Positions with gaps: the ring is searched, not indexed by position.
func TestHubPositionsWithGaps(t *testing.T) {
	e := newHubEnv(t, 8)
	g := gappedStore{e.store}
	e.hub = history.NewHub(g, history.NewReader(g, e.reg), 8, nil)
	e.write(t, 10, 60)
	start := e.head(t) * 10
	subs := map[int64]*follower{}
	for _, after := range []int64{0, start/2 + 5, start} {
		subs[after] = e.follow(history.Filter{}, after, 0)
	}
	e.write(t, 11, 60)
	end := e.head(t)
	for after, fl := range subs {
		var want []int64
		for _, p := range e.want(t, history.Filter{}, after/10, end) {
			if p*10 > after {
				want = append(want, p*10)
			}
		}
		if got := fl.until(t, end*10); !slices.Equal(got, want) {
			t.Errorf("after %d: got %v\nwant %v", after, got, want)
		}
		fl.end(t)
	}
}
