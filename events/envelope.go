// Package events holds the facts octavia-es records: the envelope every
// stored event travels in, the payload types, and the registry that maps
// stable event names to payload types. It imports nothing of ours.
package events

import (
	"encoding/json"
	"time"
)

// Event is a payload: a fact in past tense. EventType returns its stable,
// stored name; names are never renamed once released (see docs/invariants.md).
type Event interface {
	EventType() string
}

// Actor is who caused an event. Keystone fills UserID later; in noauth mode
// only the project is known.
type Actor struct {
	ProjectID string `json:"project_id,omitempty"`
	UserID    string `json:"user_id,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// Envelope is an event as stored: the payload encoded as JSON plus the
// metadata every reader needs. Position is the global position assigned by
// the store (1-based, increasing in commit order; gap-free on the SQL
// stores, not on EventStoreDB); Version is the 1-based index in Stream.
type Envelope struct {
	ID            string          `json:"id"`
	Stream        string          `json:"stream"`
	Version       int64           `json:"version"`
	Position      int64           `json:"position"`
	Type          string          `json:"type"`
	SchemaVersion int             `json:"schema_version"`
	Time          time.Time       `json:"time"`
	Actor         Actor           `json:"actor"`
	CorrelationID string          `json:"correlation_id,omitempty"`
	CausationID   string          `json:"causation_id,omitempty"`
	Data          json.RawMessage `json:"data"`
}

// Metadata is what a writer supplies besides the payload. The store assigns
// ID (if empty), Version, Position and Time (if zero).
type Metadata struct {
	Actor         Actor
	CorrelationID string
	CausationID   string
}
