package events

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Upcaster turns the stored JSON of schema version From into version From+1.
type Upcaster struct {
	Type string
	From int
	Up   func(json.RawMessage) (json.RawMessage, error)
}

type entry struct {
	newEvent      func() Event
	schemaVersion int
}

// Registry maps stored event names to payload types. It is a value built at
// start-up (NewRegistry), never a package global.
type Registry struct {
	types     map[string]entry
	upcasters map[string]map[int]Upcaster
}

// NewRegistry returns a registry holding every event type of this package.
func NewRegistry() *Registry {
	r := &Registry{types: map[string]entry{}, upcasters: map[string]map[int]Upcaster{}}
	for _, e := range allEvents() {
		r.Register(e.event, e.schemaVersion)
	}
	return r
}

// Register adds a payload type at its current schema version.
func (r *Registry) Register(e Event, schemaVersion int) {
	proto := e
	r.types[e.EventType()] = entry{
		newEvent: func() Event {
			return newOfSameType(proto)
		},
		schemaVersion: schemaVersion,
	}
}

// AddUpcaster registers a conversion from one schema version to the next.
func (r *Registry) AddUpcaster(u Upcaster) {
	if r.upcasters[u.Type] == nil {
		r.upcasters[u.Type] = map[int]Upcaster{}
	}
	r.upcasters[u.Type][u.From] = u
}

// SchemaVersion is the current schema version of an event type (0 if unknown).
func (r *Registry) SchemaVersion(eventType string) int {
	return r.types[eventType].schemaVersion
}

// Types lists the registered event names, sorted.
func (r *Registry) Types() []string {
	names := make([]string, 0, len(r.types))
	for name := range r.types {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// ErrUnknownEventType is returned by Decode for names not registered.
type ErrUnknownEventType struct{ Type string }

func (e ErrUnknownEventType) Error() string { return fmt.Sprintf("unknown event type %q", e.Type) }

// Encode builds an envelope (without store-assigned fields) for a payload.
func (r *Registry) Encode(stream string, e Event, md Metadata) (Envelope, error) {
	data, err := json.Marshal(e)
	if err != nil {
		return Envelope{}, fmt.Errorf("encode %s: %w", e.EventType(), err)
	}
	sv := r.types[e.EventType()].schemaVersion
	if sv == 0 {
		return Envelope{}, ErrUnknownEventType{Type: e.EventType()}
	}
	return Envelope{
		ID:            newEventID(),
		Stream:        stream,
		Type:          e.EventType(),
		SchemaVersion: sv,
		Time:          time.Now().UTC(),
		Actor:         md.Actor,
		CorrelationID: md.CorrelationID,
		CausationID:   md.CausationID,
		Data:          data,
	}, nil
}

// Decode upcasts an envelope's data to the current schema version and
// unmarshals it into its payload type.
func (r *Registry) Decode(env Envelope) (Event, error) {
	ent, ok := r.types[env.Type]
	if !ok {
		return nil, ErrUnknownEventType{Type: env.Type}
	}
	data := env.Data
	for v := env.SchemaVersion; v < ent.schemaVersion; v++ {
		u, ok := r.upcasters[env.Type][v]
		if !ok {
			return nil, fmt.Errorf("decode %s: no upcaster from schema version %d", env.Type, v)
		}
		var err error
		if data, err = u.Up(data); err != nil {
			return nil, fmt.Errorf("decode %s: upcast from %d: %w", env.Type, v, err)
		}
	}
	ev := ent.newEvent()
	if err := json.Unmarshal(data, ev); err != nil {
		return nil, fmt.Errorf("decode %s at position %d: %w", env.Type, env.Position, err)
	}
	return derefEvent(ev), nil
}

// newEventID returns a time-ordered UUID (v7): stores index event ids, and
// ordered keys keep those inserts on the index's last pages (random v4 ids
// halved batched appends on SQLite).
func newEventID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}
