package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/octavia-es/octavia-es/events"
)

// Subscribe implements eventstore.Store. It reads in batches from
// afterPosition; once caught up it sleeps until an in-process Append commits
// (woken at once) or the poll interval passes (appends by another process on
// the same file). When ctx ends it returns ctx.Err(); a handler error is
// returned wrapped with the position it failed at.
func (s *Store) Subscribe(ctx context.Context, afterPosition int64, handle func(context.Context, events.Envelope) error) error {
	if handle == nil {
		return errors.New("eventstore/sqlite: subscribe: nil handler")
	}
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
			return fmt.Errorf("eventstore/sqlite: subscribe: %w", err)
		}
		for _, e := range batch {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := handle(ctx, e); err != nil {
				return fmt.Errorf("eventstore/sqlite: subscription handler at position %d: %w", e.Position, err)
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
