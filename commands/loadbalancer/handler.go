package loadbalancer

import (
	"context"

	"github.com/octavia-es/octavia-es/events"
)

// Result is what Execute reports: the state after the new events, the
// stored envelopes, and the global position of the last one (what a reader
// waits for to see this write).
type Result struct {
	State    State
	Events   []events.Envelope
	Position int64
}

// Executor is what the HTTP layer and the sagas call. Implemented by *Handler
// (handler_impl.go): load the stream, Decide, append with the expected
// version, retrying on eventstore.ErrConcurrency (the retry re-decides on the
// new state, so a concurrent change that locked the LB yields a 409).
type Executor interface {
	Execute(ctx context.Context, loadBalancerID string, cmd Command, md events.Metadata) (Result, error)
	Load(ctx context.Context, loadBalancerID string) (State, error)
}
