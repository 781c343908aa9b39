package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/octavia-es/octavia-es/events"
)

// Subscribe implements eventstore.Store. It reads in batches from
// afterPosition; once caught up it sleeps until a notification (an append by
// any process, relayed by the store's LISTEN connection, or an append by this
// Store, at once) or the poll interval passes. Positions are assigned in
// commit order (see append_group), so reading past the last delivered
// position can never skip an event. When ctx ends it returns ctx.Err(); a
// handler error is returned wrapped with the position it failed at.
func (s *Store) Subscribe(ctx context.Context, afterPosition int64, handle func(context.Context, events.Envelope) error) error {
	if handle == nil {
		return errors.New("eventstore/postgres: subscribe: nil handler")
	}
	s.listen.start()
	pos := afterPosition
	timer := time.NewTimer(s.poll)
	defer timer.Stop()
	for {
		changed := s.wake.changed() // before the read: see broadcast
		batch, err := s.ReadAll(ctx, pos, subscribeBatch)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("eventstore/postgres: subscribe: %w", err)
		}
		for _, e := range batch {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := handle(ctx, e); err != nil {
				return fmt.Errorf("eventstore/postgres: subscription handler at position %d: %w", e.Position, err)
			}
			pos = e.Position
		}
		if len(batch) == subscribeBatch {
			continue // more is stored: keep catching up
		}
		timer.Reset(s.poll)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		case <-timer.C:
		}
	}
}
