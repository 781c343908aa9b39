package eventstoredb

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// client is the part of EventStoreDB's client the store uses, declared here
// so the store's logic runs against a fake in tests (no server can be
// installed on our machines). grpcClient adapts *esdb.Client to it.
type client interface {
	// Append appends evs to stream if its revision is expected.
	Append(ctx context.Context, stream string, expected esdb.ExpectedRevision, evs []esdb.EventData) (*esdb.WriteResult, error)
	// ReadStream reads up to count events of stream; a stream that does
	// not exist is an error with code ErrorCodeResourceNotFound.
	ReadStream(ctx context.Context, stream string, opts esdb.ReadStreamOptions, count uint64) ([]*esdb.RecordedEvent, error)
	// ReadAll reads up to count events of $all, unfiltered (the Go client
	// sends no filter with a read).
	ReadAll(ctx context.Context, opts esdb.ReadAllOptions, count uint64) ([]*esdb.RecordedEvent, error)
	// SubscribeToAll starts a catch-up subscription to $all.
	SubscribeToAll(ctx context.Context, opts esdb.SubscribeToAllOptions) (subscription, error)
	// SetMaxCount sets the stream's $maxCount metadata.
	SetMaxCount(ctx context.Context, stream string, maxCount uint64) error
	Close() error
}

// subscription is *esdb.Subscription.
type subscription interface {
	Recv() *esdb.SubscriptionEvent
	Close() error
}

// grpcClient is a client on EventStoreDB's gRPC client.
type grpcClient struct{ c *esdb.Client }

var _ client = grpcClient{}

func (g grpcClient) Append(ctx context.Context, stream string, expected esdb.ExpectedRevision, evs []esdb.EventData) (res *esdb.WriteResult, err error) {
	defer recoverInto(&err)
	return g.c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: expected}, evs...)
}

func (g grpcClient) ReadStream(ctx context.Context, stream string, opts esdb.ReadStreamOptions, count uint64) (out []*esdb.RecordedEvent, err error) {
	defer recoverInto(&err)
	rs, err := g.c.ReadStream(ctx, stream, opts, count)
	if err != nil {
		return nil, err
	}
	return drain(rs)
}

func (g grpcClient) ReadAll(ctx context.Context, opts esdb.ReadAllOptions, count uint64) (out []*esdb.RecordedEvent, err error) {
	defer recoverInto(&err)
	rs, err := g.c.ReadAll(ctx, opts, count)
	if err != nil {
		return nil, err
	}
	return drain(rs)
}

func (g grpcClient) SubscribeToAll(ctx context.Context, opts esdb.SubscribeToAllOptions) (sub subscription, err error) {
	defer recoverInto(&err)
	s, err := g.c.SubscribeToAll(ctx, opts)
	if err != nil {
		return nil, err
	}
	return safeSubscription{s}, nil
}

func (g grpcClient) SetMaxCount(ctx context.Context, stream string, maxCount uint64) (err error) {
	defer recoverInto(&err)
	var md esdb.StreamMetadata
	md.SetMaxCount(maxCount)
	_, err = g.c.SetStreamMetadata(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: esdb.Any{}}, md)
	return err
}

func (g grpcClient) Close() error { return g.c.Close() }

// drain collects a read's events (resolved links are not asked for, so
// each is the recorded event itself).
func drain(rs *esdb.ReadStream) ([]*esdb.RecordedEvent, error) {
	defer rs.Close()
	var out []*esdb.RecordedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if e := ev.OriginalEvent(); e != nil {
			out = append(out, e)
		}
	}
}

// safeSubscription turns a panic of the client's Recv (it panics on a
// message it does not know) into a dropped subscription.
type safeSubscription struct{ s *esdb.Subscription }

func (s safeSubscription) Recv() (ev *esdb.SubscriptionEvent) {
	defer func() {
		if r := recover(); r != nil {
			ev = &esdb.SubscriptionEvent{SubscriptionDropped: &esdb.SubscriptionDropped{Error: fmt.Errorf("%w: %v", errClientPanic, r)}}
		}
	}()
	return s.s.Recv()
}

func (s safeSubscription) Close() error { return s.s.Close() }

// errClientPanic: the EventStoreDB client panicked (it does on a response
// it does not expect); the store reports it as an error instead.
var errClientPanic = errors.New("eventstore/eventstoredb: the EventStoreDB client panicked")

func recoverInto(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: %v", errClientPanic, r)
	}
}
