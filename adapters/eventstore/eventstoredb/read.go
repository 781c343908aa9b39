package eventstoredb

import (
	"context"
	"errors"
	"fmt"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/octavia-es/octavia-es/events"
)

// ReadStream implements eventstore.Store: the stream read forwards from
// revision afterVersion, in pages.
func (s *Store) ReadStream(ctx context.Context, stream string, afterVersion int64) ([]events.Envelope, error) {
	name, err := s.names.server(stream)
	if err != nil {
		return nil, fmt.Errorf("eventstore/eventstoredb: read stream: %w", err)
	}
	var out []events.Envelope
	from := revisionAfter(afterVersion)
	for {
		recs, err := s.readRecorded(ctx, name, from, s.streamPage)
		if errors.Is(err, errNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			e, err := decode(s.names, r)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		if uint64(len(recs)) < s.streamPage {
			return out, nil
		}
		from = recs[len(recs)-1].EventNumber + 1
	}
}

// readRecorded reads up to count events of the server stream name from
// revision from; errNotFound if the stream does not exist.
func (s *Store) readRecorded(ctx context.Context, name string, from, count uint64) ([]*esdb.RecordedEvent, error) {
	c, err := s.conn()
	if err != nil {
		return nil, err
	}
	recs, err := callCtx(ctx, func() ([]*esdb.RecordedEvent, error) {
		return c.ReadStream(ctx, name, esdb.ReadStreamOptions{Direction: esdb.Forwards, From: esdb.Revision(from)}, count)
	}, nil)
	if err != nil {
		s.failed(c, err)
		return nil, mapError(ctx, "read "+name, err)
	}
	return recs, nil
}

// ReadAll implements eventstore.Store. The Go client sends no filter with a
// read of $all, so this is a catch-up subscription with the server-side
// filter, closed after limit events or once it has caught up with the end.
func (s *Store) ReadAll(ctx context.Context, afterPosition int64, limit int) ([]events.Envelope, error) {
	if limit <= 0 {
		return nil, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c, sub, err := s.subscribe(ctx, afterPosition)
	if err != nil {
		return nil, err
	}
	defer func() { _ = sub.Close() }()

	out := make([]events.Envelope, 0, min(limit, 256))
	last := max(afterPosition, 0)
	for len(out) < limit {
		ev := sub.Recv()
		switch {
		case ev == nil:
			return nil, fmt.Errorf("eventstore/eventstoredb: read $all: %w", errDropped)
		case ev.EventAppeared != nil:
			e, ok, err := s.decodeAfter(ev.EventAppeared, last)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, e)
				last = e.Position
			}
		case ev.CaughtUp != nil:
			return out, nil
		case ev.SubscriptionDropped != nil:
			err := droppedError(ev.SubscriptionDropped)
			s.failed(c, err)
			return nil, mapError(ctx, "read $all", err)
		}
	}
	return out, nil
}

// subscribe starts a filtered subscription to $all after afterPosition.
func (s *Store) subscribe(ctx context.Context, afterPosition int64) (client, subscription, error) {
	c, err := s.conn()
	if err != nil {
		return nil, nil, err
	}
	opts := esdb.SubscribeToAllOptions{From: allFrom(afterPosition), Filter: s.names.filter()}
	sub, err := callCtx(ctx, func() (subscription, error) { return c.SubscribeToAll(ctx, opts) },
		func(sub subscription) { _ = sub.Close() })
	if err != nil {
		s.failed(c, err)
		return nil, nil, mapError(ctx, "subscribe to $all", err)
	}
	if sub == nil {
		return nil, nil, fmt.Errorf("eventstore/eventstoredb: subscribe to $all: %w", errDropped)
	}
	return c, sub, nil
}

// decodeAfter decodes a delivered event; ok is false for one at or below
// last (the event a read starts at, or a repeat after resubscribing).
func (s *Store) decodeAfter(ev *esdb.ResolvedEvent, last int64) (e events.Envelope, ok bool, err error) {
	r := ev.OriginalEvent()
	if r == nil {
		return e, false, nil
	}
	if e, err = decode(s.names, r); err != nil {
		return e, false, err
	}
	return e, e.Position > last, nil
}

// errDropped: the server ended a subscription without saying why.
var errDropped = errors.New("eventstore/eventstoredb: subscription dropped")

func droppedError(d *esdb.SubscriptionDropped) error {
	if d.Error == nil {
		return errDropped
	}
	return d.Error
}
