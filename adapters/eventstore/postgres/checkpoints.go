package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Checkpoints keeps named positions (how far a subscriber such as the bus
// forwarder got) in the checkpoints table of the store's schema.
type Checkpoints struct {
	s *Store
}

// Checkpoints returns the store's checkpoint table.
func (s *Store) Checkpoints() *Checkpoints { return &Checkpoints{s: s} }

// Get returns the position saved under name, 0 when none is.
func (c *Checkpoints) Get(ctx context.Context, name string) (int64, error) {
	var pos int64
	err := c.s.pool.QueryRow(ctx, `SELECT position FROM checkpoints WHERE name = $1`, name).Scan(&pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("eventstore/postgres: get checkpoint %q: %w", name, wrapSchemaErr(err))
	}
	return pos, nil
}

// Set saves position under name, replacing what was there.
func (c *Checkpoints) Set(ctx context.Context, name string, position int64) error {
	if name == "" {
		return errors.New("eventstore/postgres: set checkpoint: empty name")
	}
	if position < 0 {
		return fmt.Errorf("eventstore/postgres: set checkpoint %q: negative position %d", name, position)
	}
	_, err := c.s.pool.Exec(ctx,
		`INSERT INTO checkpoints (name, position) VALUES ($1, $2)
		 ON CONFLICT (name) DO UPDATE SET position = excluded.position`, name, position)
	if err != nil {
		return fmt.Errorf("eventstore/postgres: set checkpoint %q: %w", name, wrapSchemaErr(err))
	}
	return nil
}
