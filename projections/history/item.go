package history

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/octavia-es/octavia-es/events"
)

// TimeFormat renders event times: UTC, RFC 3339 with microseconds. Every
// store keeps at least microseconds (PostgreSQL keeps no more), so the
// same event renders the same everywhere, and a rendered time given back
// as a filter or as_of selects that event (comparisons truncate to µs).
const TimeFormat = "2006-01-02T15:04:05.000000Z07:00"

// Item is one event as the API, the SSE stream and the CLI show it. Data is
// the payload decoded and upcast to the current schema version, encoded
// again: readers never see an old schema.
type Item struct {
	ID             string          `json:"id"`
	Position       int64           `json:"position"`
	Stream         string          `json:"stream"`
	LoadBalancerID *string         `json:"loadbalancer_id"`
	ProjectID      *string         `json:"project_id"` // the load balancer's project
	Version        int64           `json:"version"`
	Type           string          `json:"type"`
	Time           string          `json:"time"`
	Actor          Actor           `json:"actor"`
	CorrelationID  *string         `json:"correlation_id"`
	CausationID    *string         `json:"causation_id"`
	SchemaVersion  int             `json:"schema_version"`        // of Data
	StoredSchema   int             `json:"stored_schema_version"` // as recorded
	Data           json.RawMessage `json:"data"`
}

// Actor is who caused an event; null where unknown (sagas act for nobody).
type Actor struct {
	ProjectID *string `json:"project_id"`
	UserID    *string `json:"user_id"`
	RequestID *string `json:"request_id"`
}

// LoadBalancerOf is the load balancer whose stream holds env ("" for a
// stream of another kind).
func LoadBalancerOf(env events.Envelope) string {
	id, ok := strings.CutPrefix(env.Stream, events.StreamPrefix)
	if !ok {
		return ""
	}
	return id
}

// FormatTime renders t as TimeFormat.
func FormatTime(t time.Time) string { return truncate(t).Format(TimeFormat) }

// truncate is the precision every time comparison uses.
func truncate(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// NewItem renders env; projectID is its load balancer's project ("" if
// unknown). The payload is decoded (and upcast) with reg: an event that does
// not decode is an error, never shown half-read.
func NewItem(reg *events.Registry, env events.Envelope, projectID string) (Item, error) {
	ev, err := reg.Decode(env)
	if err != nil {
		return Item{}, err
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return Item{}, fmt.Errorf("encode %s at position %d: %w", env.Type, env.Position, err)
	}
	return Item{
		ID:             env.ID,
		Position:       env.Position,
		Stream:         env.Stream,
		LoadBalancerID: nullable(LoadBalancerOf(env)),
		ProjectID:      nullable(projectID),
		Version:        env.Version,
		Type:           env.Type,
		Time:           FormatTime(env.Time),
		Actor: Actor{
			ProjectID: nullable(env.Actor.ProjectID),
			UserID:    nullable(env.Actor.UserID),
			RequestID: nullable(env.Actor.RequestID),
		},
		CorrelationID: nullable(env.CorrelationID),
		CausationID:   nullable(env.CausationID),
		SchemaVersion: max(reg.SchemaVersion(env.Type), env.SchemaVersion),
		StoredSchema:  env.SchemaVersion,
		Data:          data,
	}, nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
