package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Checkpoints keeps named positions (how far a subscriber such as the bus
// forwarder got) in the checkpoints table of the store's file.
type Checkpoints struct {
	s *Store
}

// Checkpoints returns the store's checkpoint table.
func (s *Store) Checkpoints() *Checkpoints { return &Checkpoints{s: s} }

// Get returns the position saved under name, 0 when none is.
func (c *Checkpoints) Get(ctx context.Context, name string) (int64, error) {
	var pos int64
	err := c.s.read.QueryRowContext(ctx, `SELECT position FROM checkpoints WHERE name = ?`, name).Scan(&pos)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("eventstore/sqlite: get checkpoint %q: %w", name, err)
	}
	return pos, nil
}

// Set saves position under name, replacing what was there.
func (c *Checkpoints) Set(ctx context.Context, name string, position int64) error {
	if name == "" {
		return errors.New("eventstore/sqlite: set checkpoint: empty name")
	}
	if position < 0 {
		return fmt.Errorf("eventstore/sqlite: set checkpoint %q: negative position %d", name, position)
	}
	_, err := c.s.write.ExecContext(ctx,
		`INSERT INTO checkpoints (name, position) VALUES (?, ?)
		 ON CONFLICT (name) DO UPDATE SET position = excluded.position`, name, position)
	if err != nil {
		return fmt.Errorf("eventstore/sqlite: set checkpoint %q: %w", name, err)
	}
	return nil
}
