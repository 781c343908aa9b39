package metrics

import (
	"context"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/events"
)

// countingStore is an event store that counts the events it appends.
type countingStore struct {
	eventstore.Store
	m *Metrics
}

// CountAppends wraps store so that every event appended through it counts
// in octavia_es_eventstore_events_appended_total{type}.
func (m *Metrics) CountAppends(store eventstore.Store) eventstore.Store {
	return &countingStore{Store: store, m: m}
}

func (s *countingStore) Append(ctx context.Context, stream string, expectedVersion int64, evs []events.Envelope) ([]events.Envelope, error) {
	stored, err := s.Store.Append(ctx, stream, expectedVersion, evs)
	for _, e := range stored {
		s.m.eventsAppended.WithLabelValues(e.Type).Inc()
	}
	return stored, err
}
