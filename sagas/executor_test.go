package sagas

import (
	"context"
	"sync"
	"time"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
)

// memExecutor runs the real aggregate (Decide, Evolve) over in-memory
// streams, with the JSON round trip of the registry, as the store-backed
// loadbalancer.Handler does.
type memExecutor struct {
	reg *events.Registry

	mu       sync.Mutex
	streams  map[string][]events.Envelope
	position int64
	loads    int
}

func newMemExecutor() *memExecutor {
	return &memExecutor{reg: events.NewRegistry(), streams: map[string][]events.Envelope{}}
}

func (m *memExecutor) Load(_ context.Context, id string) (loadbalancer.State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loads++
	return m.fold(id)
}

func (m *memExecutor) fold(id string) (loadbalancer.State, error) {
	s := loadbalancer.NewStateFor(id)
	for _, env := range m.streams[events.StreamFor(id)] {
		e, err := m.reg.Decode(env)
		if err != nil {
			return loadbalancer.State{}, err
		}
		s = loadbalancer.Evolve(s, env.Version, env.Time, e)
	}
	return s, nil
}

func (m *memExecutor) Execute(_ context.Context, id string, cmd loadbalancer.Command, md events.Metadata) (loadbalancer.Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.fold(id)
	if err != nil {
		return loadbalancer.Result{}, err
	}
	evs, err := loadbalancer.Decide(s, cmd)
	if err != nil || len(evs) == 0 {
		return loadbalancer.Result{State: s}, err
	}
	stream := events.StreamFor(id)
	var stored []events.Envelope
	for _, e := range evs {
		env, err := m.reg.Encode(stream, e, md)
		if err != nil {
			return loadbalancer.Result{State: s}, err
		}
		m.position++
		env.Version = int64(len(m.streams[stream]) + 1)
		env.Position = m.position
		env.Time = time.Unix(m.position, 0).UTC()
		m.streams[stream] = append(m.streams[stream], env)
		stored = append(stored, env)
	}
	s, err = m.fold(id)
	return loadbalancer.Result{State: s, Events: stored, Position: m.position}, err
}

// stream returns a copy of a load balancer's envelopes.
func (m *memExecutor) stream(id string) []events.Envelope {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]events.Envelope(nil), m.streams[events.StreamFor(id)]...)
}

func (m *memExecutor) loadCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.loads
}
