package v2

import (
	"context"
	"errors"
	"net/http"

	"github.com/google/uuid"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/http/auth"
	"github.com/octavia-es/octavia-es/http/fault"
	"github.com/octavia-es/octavia-es/projections"
)

func newUUID() string { return uuid.NewString() }

// internal logs err and returns the generic 500 a client sees: internals
// never leak into a faultstring.
func (a *API) internal(ctx context.Context, what string, err error) *fault.Error {
	a.log.ErrorContext(ctx, "v2: "+what, "err", err, "request_id", auth.RequestID(ctx))
	return fault.New(http.StatusInternalServerError,
		"An unexpected error occurred while handling the request %s.", auth.RequestID(ctx))
}

// commandError maps an Execute or Load failure to Octavia's answer.
func (a *API) commandError(ctx context.Context, lbID string, err error) *fault.Error {
	var refused *loadbalancer.Error
	switch {
	case errors.As(err, &refused):
		status := http.StatusBadRequest
		switch refused.Kind {
		case loadbalancer.NotFound:
			status = http.StatusNotFound
		case loadbalancer.Conflict, loadbalancer.Immutable:
			status = http.StatusConflict
		}
		return fault.New(status, "%s", refused.Message)
	case errors.Is(err, eventstore.ErrConcurrency):
		// Retries kept losing the race: the load balancer is busy, which
		// Octavia reports as its lock would.
		return fault.New(http.StatusConflict, "Load Balancer %s is immutable and cannot be updated.", lbID)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return unavailable("The request did not complete in time; it may or may not have been applied.")
	default:
		return a.internal(ctx, "command failed", err)
	}
}

// readError maps a read model failure; notFound is the 404 of the object
// asked for.
func (a *API) readError(ctx context.Context, err error, notFound *fault.Error) *fault.Error {
	var qe *projections.QueryError
	switch {
	case errors.Is(err, projections.ErrNotFound) && notFound != nil:
		return notFound
	case errors.As(err, &qe):
		return fault.BadRequest("%s", qe.Message)
	case errors.Is(err, projections.ErrInvalidQuery):
		return fault.BadRequest("%s", err.Error())
	default:
		return a.internal(ctx, "read model failed", err)
	}
}

func unavailable(msg string) *fault.Error {
	e := fault.New(http.StatusServiceUnavailable, "%s", msg)
	e.Header = http.Header{"Retry-After": {"1"}}
	return e
}

// metadata records who asked, for the events a command appends.
func metadata(ctx context.Context) events.Metadata {
	id, _ := auth.FromContext(ctx)
	rid := auth.RequestID(ctx)
	return events.Metadata{
		Actor:         events.Actor{ProjectID: id.ProjectID, UserID: id.UserID, RequestID: rid},
		CorrelationID: rid,
	}
}

func identity(ctx context.Context) auth.Identity {
	id, _ := auth.FromContext(ctx)
	return id
}

// Octavia's resource names in NotFound messages (data_models._name()).
const (
	resLoadBalancer  = "Load Balancer"
	resListener      = "Listener"
	resPool          = "Pool"
	resMember        = "Member"
	resHealthMonitor = "Health Monitor"
)
