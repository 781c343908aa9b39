package loadbalancer

import (
	"context"
	"sync"
	"time"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/events"
)

// memStore is a minimal in-memory eventstore.Store for the handler tests.
type memStore struct {
	mu      sync.Mutex
	all     []events.Envelope
	streams map[string][]events.Envelope
}

func newMemStore() *memStore { return &memStore{streams: map[string][]events.Envelope{}} }

func (m *memStore) Append(_ context.Context, stream string, expected int64, evs []events.Envelope) ([]events.Envelope, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := int64(len(m.streams[stream]))
	if expected != eventstore.ExpectAny && expected != cur {
		return nil, eventstore.ErrConcurrency
	}
	out := make([]events.Envelope, len(evs))
	for i, e := range evs {
		e.Stream = stream
		e.Version = cur + int64(i) + 1
		e.Position = int64(len(m.all)) + 1
		if e.Time.IsZero() {
			e.Time = time.Now().UTC()
		}
		m.all = append(m.all, e)
		m.streams[stream] = append(m.streams[stream], e)
		out[i] = e
	}
	return out, nil
}

func (m *memStore) ReadStream(_ context.Context, stream string, after int64) ([]events.Envelope, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []events.Envelope
	for _, e := range m.streams[stream] {
		if e.Version > after {
			out = append(out, e)
		}
	}
	return out, nil
}

func (m *memStore) ReadAll(_ context.Context, after int64, limit int) ([]events.Envelope, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []events.Envelope
	for _, e := range m.all {
		if e.Position > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (m *memStore) Head(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return int64(len(m.all)), nil
}

func (m *memStore) Subscribe(ctx context.Context, _ int64, _ func(context.Context, events.Envelope) error) error {
	<-ctx.Done()
	return ctx.Err()
}

func (m *memStore) Close() error { return nil }

var _ eventstore.Store = (*memStore)(nil)
