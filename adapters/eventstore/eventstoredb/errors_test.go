package eventstoredb

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
)

func codeErr(code esdb.ErrorCode) error { return &fakeError{code: code, msg: "x"} }

// wrappedStatus is what the client makes of a gRPC status it has no code
// for: ErrorCodeUnknown around the status error.
type wrappedStatus struct{ err error }

func (w *wrappedStatus) Error() string        { return "unknown: " + w.err.Error() }
func (w *wrappedStatus) Code() esdb.ErrorCode { return esdb.ErrorCodeUnknown }
func (w *wrappedStatus) Unwrap() error        { return w.err }

func TestMapError(t *testing.T) {
	live := context.Background()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name string
		ctx  context.Context
		err  error
		is   []error // errors.Is must hold for each
		not  []error // and must not
	}{
		{"wrong expected version", live, codeErr(esdb.ErrorCodeWrongExpectedVersion), []error{eventstore.ErrConcurrency, eventstore.ErrStreamExists}, []error{errNotFound}},
		{"wrapped wrong expected version", live, fmt.Errorf("append: %w", codeErr(esdb.ErrorCodeWrongExpectedVersion)), []error{eventstore.ErrConcurrency}, nil},
		{"stream not found", live, codeErr(esdb.ErrorCodeResourceNotFound), []error{errNotFound}, []error{eventstore.ErrConcurrency}},
		{"access denied", live, codeErr(esdb.ErrorCodeAccessDenied), nil, []error{eventstore.ErrConcurrency, errNotFound}},
		{"cancelled by the caller", cancelled, status.Error(codes.Canceled, "canceled"), []error{context.Canceled}, []error{eventstore.ErrConcurrency}},
		{"concurrency wins over a late cancel", cancelled, codeErr(esdb.ErrorCodeWrongExpectedVersion), []error{eventstore.ErrConcurrency}, nil},
	}
	for _, c := range cases {
		got := mapError(c.ctx, "op", c.err)
		if got == nil {
			t.Errorf("%s: mapError = nil", c.name)
			continue
		}
		for _, want := range c.is {
			if !errors.Is(got, want) {
				t.Errorf("%s: mapError = %v, want errors.Is %v", c.name, got, want)
			}
		}
		for _, unwanted := range c.not {
			if errors.Is(got, unwanted) {
				t.Errorf("%s: mapError = %v is %v", c.name, got, unwanted)
			}
		}
	}
	if err := mapError(live, "op", nil); err != nil {
		t.Errorf("mapError(nil) = %v", err)
	}
	other := errors.New("boom")
	if err := mapError(live, "op", other); !errors.Is(err, other) {
		t.Errorf("mapError(boom) = %v, want it wrapped", err)
	}
}

func TestRetryable(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"unavailable", codeErr(esdb.ErrorUnavailable), true},
		{"not leader", codeErr(esdb.ErrorCodeNotLeader), true},
		{"deadline", codeErr(esdb.ErrorCodeDeadlineExceeded), true},
		{"aborted", codeErr(esdb.ErrorAborted), true},
		{"access denied", codeErr(esdb.ErrorCodeAccessDenied), false},
		{"unauthenticated", codeErr(esdb.ErrorCodeUnauthenticated), false},
		{"connection closed", codeErr(esdb.ErrorCodeConnectionClosed), false},
		{"wrong expected version", codeErr(esdb.ErrorCodeWrongExpectedVersion), false},
		{"unknown code, unavailable status", &wrappedStatus{status.Error(codes.Unavailable, "gone")}, true},
		{"unknown code, invalid argument", &wrappedStatus{status.Error(codes.InvalidArgument, "bad")}, false},
		{"raw status: stream reset", status.Error(codes.Internal, "RST_STREAM"), true},
		{"raw status: cancelled by the server", status.Error(codes.Canceled, "x"), true},
		{"raw status: permission denied", status.Error(codes.PermissionDenied, "x"), false},
		{"wrapped raw status", fmt.Errorf("recv: %w", status.Error(codes.Unavailable, "x")), true},
		{"our decode error", fmt.Errorf("decode: %w", errPosition), false},
		{"client panic", errClientPanic, false},
		{"plain", errors.New("x"), false},
	}
	for _, c := range cases {
		if got := retryable(c.err); got != c.want {
			t.Errorf("%s: retryable(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
	s := openFake(t, newFakeServer())
	for _, err := range []error{errDropped, codeErr(esdb.ErrorCodeConnectionClosed)} {
		if !s.retryable(err) {
			t.Errorf("Store.retryable(%v) = false: a drop without reason and a replaced client are worth a retry", err)
		}
	}
}
