package eventstoredb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/octavia-es/octavia-es/events"
)

// Subscribe implements eventstore.Store with a catch-up subscription to
// $all, filtered on the server: stored events first, then new ones as they
// commit, the server switching between the two. A subscription the server
// or the network drops is started again after the last delivered position
// (with a growing pause, reset by any delivery), so callers see one
// subscription until ctx ends, the handler fails, or the server refuses
// (access denied, a store closed…).
func (s *Store) Subscribe(ctx context.Context, afterPosition int64, handle func(context.Context, events.Envelope) error) error {
	if handle == nil {
		return errors.New("eventstore/eventstoredb: subscribe: nil handler")
	}
	last := max(afterPosition, 0)
	delay := s.retryMin
	for {
		delivered, err := s.follow(ctx, &last, handle)
		var herr *handlerError
		switch {
		case errors.As(err, &herr):
			return fmt.Errorf("eventstore/eventstoredb: subscription handler at position %d: %w", herr.position, herr.err)
		case ctx.Err() != nil:
			return ctx.Err()
		case !s.retryable(err):
			return fmt.Errorf("eventstore/eventstoredb: subscription after position %d: %w", last, err)
		}
		if delivered {
			delay = s.retryMin
		}
		s.log.Warn("eventstoredb: subscription dropped; subscribing again", "after", last, "in", delay, "err", err)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, s.retryMax)
	}
}

// handlerError carries the handler's error out of follow.
type handlerError struct {
	position int64
	err      error
}

func (e *handlerError) Error() string { return e.err.Error() }

// follow runs one server subscription after *last until it drops (the
// error), the handler fails (a *handlerError) or ctx ends; *last moves
// with every delivery.
func (s *Store) follow(ctx context.Context, last *int64, handle func(context.Context, events.Envelope) error) (delivered bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c, sub, err := s.subscribe(ctx, *last)
	if err != nil {
		return false, err
	}
	defer func() { _ = sub.Close() }()
	for {
		ev := sub.Recv()
		switch {
		case ev == nil:
			return delivered, errDropped
		case ev.EventAppeared != nil:
			e, ok, err := s.decodeAfter(ev.EventAppeared, *last)
			if err != nil {
				return delivered, err
			}
			if !ok {
				continue
			}
			if err := handle(ctx, e); err != nil {
				return delivered, &handlerError{position: e.Position, err: err}
			}
			*last, delivered = e.Position, true
		case ev.SubscriptionDropped != nil:
			err := droppedError(ev.SubscriptionDropped)
			s.failed(c, err)
			return delivered, err
		}
		// Checkpoints, caught-up and fell-behind notices change nothing here.
	}
}

// retryable: a drop worth subscribing again after (see retryable), or a
// client that stopped and that failed has replaced.
func (s *Store) retryable(err error) bool {
	return retryable(err) || errors.Is(err, errDropped) || (connectionClosed(err) && s.dial != nil)
}
