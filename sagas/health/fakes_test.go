package health

import (
	"context"
	"errors"
	"maps"
	"sync"
	"time"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/projections"
)

var (
	_ Executor  = (*loadbalancer.Handler)(nil)
	_ ReadModel = (*projections.ReadModel)(nil)
)

// fakeExecutor runs commands through the real Decide and Evolve on states
// held in memory, and records what it executed.
type fakeExecutor struct {
	mu       sync.Mutex
	states   map[string]loadbalancer.State
	executed []executed
	loadErr  error
	loads    int
}

type executed struct {
	lbID string
	cmd  loadbalancer.Command
	md   events.Metadata
}

func newFakeExecutor(states ...loadbalancer.State) *fakeExecutor {
	f := &fakeExecutor{states: map[string]loadbalancer.State{}}
	for _, s := range states {
		f.states[s.LoadBalancerID()] = s
	}
	return f
}

func (f *fakeExecutor) Load(_ context.Context, id string) (loadbalancer.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loads++
	if f.loadErr != nil {
		return loadbalancer.State{}, f.loadErr
	}
	s, ok := f.states[id]
	if !ok {
		return loadbalancer.NewStateFor(id), nil
	}
	return s.Clone(), nil
}

func (f *fakeExecutor) Execute(_ context.Context, id string, cmd loadbalancer.Command, md events.Metadata) (loadbalancer.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.states[id]
	if !ok {
		s = loadbalancer.NewStateFor(id)
	}
	s = s.Clone()
	evs, err := loadbalancer.Decide(s, cmd)
	if err != nil {
		return loadbalancer.Result{State: s}, err
	}
	f.executed = append(f.executed, executed{id, cmd, md})
	for _, e := range evs {
		s = loadbalancer.Evolve(s, s.Version+1, time.Now(), e)
	}
	f.states[id] = s
	return loadbalancer.Result{State: s, Position: int64(len(f.executed))}, nil
}

// commands returns the executed commands of type T.
func commandsOf[T loadbalancer.Command](f *fakeExecutor) []T {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []T
	for _, e := range f.executed {
		if c, ok := e.cmd.(T); ok {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeExecutor) state(id string) loadbalancer.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.states[id].Clone()
}

// fakeReadModel holds amphora records and the stats written.
type fakeReadModel struct {
	mu      sync.Mutex
	records map[string]projections.AmphoraRecord
	stats   []statsWrite
	listErr error
}

type statsWrite struct {
	amphoraID string
	deltas    map[string]projections.Stats
}

func newFakeReadModel(recs ...projections.AmphoraRecord) *fakeReadModel {
	f := &fakeReadModel{records: map[string]projections.AmphoraRecord{}}
	for _, r := range recs {
		f.records[r.ID] = r
	}
	return f
}

func (f *fakeReadModel) AmphoraRecords(context.Context) ([]projections.AmphoraRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.listErr != nil {
		return nil, f.listErr
	}
	return mapsValues(f.records), nil
}

func mapsValues(m map[string]projections.AmphoraRecord) []projections.AmphoraRecord {
	out := make([]projections.AmphoraRecord, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	return out
}

func (f *fakeReadModel) AmphoraRecordByID(_ context.Context, id string) (projections.AmphoraRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.records[id]
	if !ok {
		return r, projections.ErrNotFound
	}
	return r, nil
}

func (f *fakeReadModel) AddListenerStats(_ context.Context, amphoraID string, deltas map[string]projections.Stats) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if amphoraID == "" {
		return errors.New("empty amphora id")
	}
	f.stats = append(f.stats, statsWrite{amphoraID, maps.Clone(deltas)})
	return nil
}

func (f *fakeReadModel) set(r projections.AmphoraRecord) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.records[r.ID] = r
}

func (f *fakeReadModel) remove(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.records, id)
}

func (f *fakeReadModel) writes() []statsWrite {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]statsWrite(nil), f.stats...)
}

// clock is a manual clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
