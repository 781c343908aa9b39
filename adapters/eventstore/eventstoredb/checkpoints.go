package eventstoredb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
)

const (
	// checkpointPrefix starts the stream of each checkpoint (after the
	// namespace): outside the store's streams, so no reader of $all sees it.
	checkpointPrefix = "octavia-checkpoint-"
	checkpointType   = "octavia.checkpoint"
)

// Checkpoints keeps named positions (how far a subscriber such as the bus
// forwarder got), as the SQL stores' Checkpoints do: one stream per name,
// whose last event holds the position; its $maxCount of 1 lets the server
// scavenge the older ones.
type Checkpoints struct {
	s *Store

	mu     sync.Mutex
	capped map[string]bool // streams whose $maxCount was set by this instance
}

// Checkpoints returns the store's checkpoints.
func (s *Store) Checkpoints() *Checkpoints { return &Checkpoints{s: s, capped: map[string]bool{}} }

type checkpoint struct {
	Position int64 `json:"position"`
}

func (c *Checkpoints) stream(name string) (string, error) {
	if name == "" {
		return "", errors.New("eventstore/eventstoredb: checkpoint: empty name")
	}
	stream := c.s.names.namespace + checkpointPrefix + name
	if _, ours := c.s.names.ours(stream); ours {
		return "", fmt.Errorf("eventstore/eventstoredb: checkpoint %q: its stream %s would be one of the store's: give the store a stream prefix", name, stream)
	}
	return stream, nil
}

// Get returns the position saved under name, 0 when none is.
func (c *Checkpoints) Get(ctx context.Context, name string) (int64, error) {
	stream, err := c.stream(name)
	if err != nil {
		return 0, err
	}
	cl, err := c.s.conn()
	if err != nil {
		return 0, err
	}
	recs, err := callCtx(ctx, func() ([]*esdb.RecordedEvent, error) {
		return cl.ReadStream(ctx, stream, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	}, nil)
	switch err = mapError(ctx, "get checkpoint "+name, err); {
	case errors.Is(err, errNotFound):
		return 0, nil
	case err != nil:
		c.s.failed(cl, err)
		return 0, err
	case len(recs) == 0:
		return 0, nil
	}
	var cp checkpoint
	if err := json.Unmarshal(recs[0].Data, &cp); err != nil {
		return 0, fmt.Errorf("eventstore/eventstoredb: get checkpoint %q: %w", name, err)
	}
	return cp.Position, nil
}

// Set saves position under name, replacing what was there.
func (c *Checkpoints) Set(ctx context.Context, name string, position int64) error {
	stream, err := c.stream(name)
	if err != nil {
		return err
	}
	if position < 0 {
		return fmt.Errorf("eventstore/eventstoredb: set checkpoint %q: negative position %d", name, position)
	}
	cl, err := c.s.conn()
	if err != nil {
		return err
	}
	if err := c.capOnce(ctx, cl, stream); err != nil {
		return fmt.Errorf("eventstore/eventstoredb: set checkpoint %q: %w", name, err)
	}
	data, err := json.Marshal(checkpoint{Position: position})
	if err != nil {
		return err
	}
	ev := esdb.EventData{EventID: uuid.New(), EventType: checkpointType, ContentType: esdb.ContentTypeJson, Data: data}
	_, err = callCtx(ctx, func() (*esdb.WriteResult, error) { return cl.Append(ctx, stream, esdb.Any{}, []esdb.EventData{ev}) }, nil)
	if err != nil {
		c.s.failed(cl, err)
		return mapError(ctx, "set checkpoint "+name, err)
	}
	return nil
}

// capOnce sets the stream's $maxCount the first time this instance writes
// it (setting it again is harmless, only wasteful).
func (c *Checkpoints) capOnce(ctx context.Context, cl client, stream string) error {
	c.mu.Lock()
	done := c.capped[stream]
	c.mu.Unlock()
	if done {
		return nil
	}
	if _, err := callCtx(ctx, func() (struct{}, error) { return struct{}{}, cl.SetMaxCount(ctx, stream, 1) }, nil); err != nil {
		c.s.failed(cl, err)
		return mapError(ctx, "set $maxCount of "+stream, err)
	}
	c.mu.Lock()
	c.capped[stream] = true
	c.mu.Unlock()
	return nil
}
