package eventstoredb

import (
	"context"
	"errors"
	"fmt"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
)

// coded is how the client's *esdb.Error says what went wrong (an interface,
// so tests can make such errors: esdb.Error's fields are unexported).
type coded interface {
	error
	Code() esdb.ErrorCode
}

var _ coded = (*esdb.Error)(nil)

func codeOf(err error) (esdb.ErrorCode, bool) {
	var c coded
	if errors.As(err, &c) {
		return c.Code(), true
	}
	return 0, false
}

// errNotFound: the stream does not exist (a read's answer, not a failure).
var errNotFound = errors.New("eventstore/eventstoredb: stream not found")

// mapError turns a client error into the store's: a lost optimistic
// concurrency check is eventstore.ErrConcurrency, a missing stream
// errNotFound, the caller's cancelled context its error; everything else
// is wrapped with what was being done.
func mapError(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if code, ok := codeOf(err); ok {
		switch code {
		case esdb.ErrorCodeWrongExpectedVersion:
			return fmt.Errorf("%w: %s: %v", eventstore.ErrConcurrency, op, err)
		case esdb.ErrorCodeResourceNotFound:
			return fmt.Errorf("%w: %s", errNotFound, op)
		}
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("eventstore/eventstoredb: %s: %w", op, ctxErr)
	}
	return fmt.Errorf("eventstore/eventstoredb: %s: %w", op, err)
}

// retryable says whether a subscription that failed with err is worth
// starting again: the server or the network went away (or another node is
// the leader now), not a refusal that would come back the same.
func retryable(err error) bool {
	if code, ok := codeOf(err); ok {
		switch code {
		case esdb.ErrorUnavailable, esdb.ErrorCodeDeadlineExceeded, esdb.ErrorAborted, esdb.ErrorCodeNotLeader:
			return true
		case esdb.ErrorCodeUnknown, esdb.ErrorCodeInternalServer:
			// The client files every unmapped gRPC status here: decide on it.
		default:
			// Closed connection (the client gave up discovery: see
			// Store.redial), access denied, unauthenticated, unsupported,
			// parsing, deleted stream…
			return false
		}
	}
	if s, ok := status.FromError(err); ok {
		switch s.Code() {
		case codes.Unavailable, codes.Aborted, codes.ResourceExhausted, codes.Internal,
			codes.DeadlineExceeded, codes.Canceled, codes.Unknown:
			// Canceled and DeadlineExceeded only reach here while our own
			// context is alive: the server or a proxy cut the stream.
			return true
		}
	}
	return false
}

// connectionClosed says whether err means the client is finished: it
// stops for good once a discovery fails, and must be replaced.
func connectionClosed(err error) bool {
	code, ok := codeOf(err)
	return ok && code == esdb.ErrorCodeConnectionClosed
}
