package eventstoredb

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/octavia-es/octavia-es/events"
)

// metadata is what an envelope keeps in its EventStoreDB event's metadata
// (JSON). Correlation and causation go under EventStoreDB's own keys, so
// its $by_correlation_id projection and UI understand them. Stream,
// version, position and type are the event's own.
type metadata struct {
	// ID is our event id when it is not the canonical form of a UUID; the
	// EventStoreDB event id is then derived from it (idFor).
	ID            string       `json:"id,omitempty"`
	SchemaVersion *int         `json:"schema_version,omitempty"`
	Time          *time.Time   `json:"time,omitempty"`
	Actor         events.Actor `json:"actor,omitzero"`
	CorrelationID string       `json:"$correlationId,omitempty"`
	CausationID   string       `json:"$causationId,omitempty"`
}

// idNamespace derives the EventStoreDB event id of an envelope whose id is
// not a UUID (SHA-1 name-based, so a retried append keeps its ids).
var idNamespace = uuid.MustParse("c46a374b-a62e-415a-a82b-f859a2f7ddd4")

// idFor is the EventStoreDB event id of our id, and whether our id must be
// kept in the metadata to come back byte for byte.
func idFor(id string) (uuid.UUID, bool) {
	if u, err := uuid.Parse(id); err == nil && u.String() == id {
		return u, false
	}
	return uuid.NewSHA1(idNamespace, []byte(id)), true
}

// newID is a time-ordered UUID, as the other stores assign.
func newID() string {
	if id, err := uuid.NewV7(); err == nil {
		return id.String()
	}
	return uuid.NewString()
}

// encode validates a batch and turns it into EventStoreDB events, filling
// in the ids and times the caller left empty (now for the times).
func encode(stream string, evs []events.Envelope, now time.Time) ([]esdb.EventData, error) {
	out := make([]esdb.EventData, len(evs))
	for i, e := range evs {
		if e.Type == "" {
			return nil, fmt.Errorf("eventstore/eventstoredb: append to %s: event %d has no type", stream, i)
		}
		if !json.Valid(e.Data) {
			return nil, fmt.Errorf("eventstore/eventstoredb: append to %s: event %d (%s): data is not valid JSON", stream, i, e.Type)
		}
		if e.ID == "" {
			e.ID = newID()
		}
		if e.Time.IsZero() {
			e.Time = now
		}
		t := e.Time.UTC()
		if y := t.Year(); y < 1 || y > 9999 {
			return nil, fmt.Errorf("eventstore/eventstoredb: append to %s: event %d (%s): time %v out of range", stream, i, e.Type, e.Time)
		}
		id, keep := idFor(e.ID)
		md := metadata{
			SchemaVersion: &e.SchemaVersion,
			Time:          &t,
			Actor:         e.Actor,
			CorrelationID: e.CorrelationID,
			CausationID:   e.CausationID,
		}
		if keep {
			md.ID = e.ID
		}
		raw, err := json.Marshal(md)
		if err != nil {
			return nil, fmt.Errorf("eventstore/eventstoredb: append to %s: event %d (%s): metadata: %w", stream, i, e.Type, err)
		}
		out[i] = esdb.EventData{
			EventID:     id,
			EventType:   e.Type,
			ContentType: esdb.ContentTypeJson,
			Data:        e.Data,
			Metadata:    raw,
		}
	}
	return out, nil
}

// decode turns a stored event of the store's back into an envelope. An
// event that another writer put in our streams without our metadata gets
// the EventStoreDB id, the server's creation time and schema version 1.
func decode(n naming, r *esdb.RecordedEvent) (events.Envelope, error) {
	stream, ok := n.ours(r.StreamID)
	if !ok {
		return events.Envelope{}, fmt.Errorf("eventstore/eventstoredb: event %s of stream %q is not the store's", r.EventID, r.StreamID)
	}
	version, err := versionOf(r.EventNumber)
	if err != nil {
		return events.Envelope{}, fmt.Errorf("eventstore/eventstoredb: %s@%d: %w", r.StreamID, r.EventNumber, err)
	}
	position, err := positionOf(r.Position)
	if err != nil {
		return events.Envelope{}, fmt.Errorf("eventstore/eventstoredb: %s@%d: %w", r.StreamID, r.EventNumber, err)
	}
	var md metadata
	if len(r.UserMetadata) > 0 {
		if err := json.Unmarshal(r.UserMetadata, &md); err != nil {
			return events.Envelope{}, fmt.Errorf("eventstore/eventstoredb: %s@%d: metadata: %w", r.StreamID, r.EventNumber, err)
		}
	}
	e := events.Envelope{
		ID:            md.ID,
		Stream:        stream,
		Version:       version,
		Position:      position,
		Type:          r.EventType,
		SchemaVersion: 1,
		Time:          r.CreatedDate.UTC(),
		Actor:         md.Actor,
		CorrelationID: md.CorrelationID,
		CausationID:   md.CausationID,
		Data:          json.RawMessage(r.Data),
	}
	if len(e.Data) == 0 {
		e.Data = nil // encodes as null, where empty bytes would not encode at all
	}
	if e.ID == "" {
		e.ID = r.EventID.String()
	}
	if md.SchemaVersion != nil {
		e.SchemaVersion = *md.SchemaVersion
	}
	if md.Time != nil {
		e.Time = md.Time.UTC()
	}
	return e, nil
}
