package eventstoredb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/events"
)

// Append implements eventstore.Store with one append of the server (atomic,
// checked against the expected revision), then reads the events back: the
// server's answer holds the stream's last revision but not each event's
// $all position, which is only known once written.
//
// Event ids are EventStoreDB event ids, and the server treats an append
// whose ids match the events already at the expected revision as a retry:
// it succeeds without writing them again.
func (s *Store) Append(ctx context.Context, stream string, expectedVersion int64, evs []events.Envelope) ([]events.Envelope, error) {
	name, err := s.names.server(stream)
	if err != nil {
		return nil, fmt.Errorf("eventstore/eventstoredb: append: %w", err)
	}
	expected, err := expectedRevision(expectedVersion)
	if err != nil {
		return nil, err
	}
	data, err := encode(stream, evs, time.Now())
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return []events.Envelope{}, s.checkVersion(ctx, stream, name, expectedVersion)
	}

	c, err := s.conn()
	if err != nil {
		return nil, err
	}
	res, err := callCtx(ctx, func() (*esdb.WriteResult, error) { return c.Append(ctx, name, expected, data) }, nil)
	if err != nil {
		s.failed(c, err)
		return nil, mapError(ctx, "append to "+stream, err)
	}
	n := uint64(len(data))
	if res == nil || res.NextExpectedVersion+1 < n {
		return nil, fmt.Errorf("eventstore/eventstoredb: append to %s: the server answered no usable revision (%+v)", stream, res)
	}
	first := res.NextExpectedVersion + 1 - n
	stored, err := s.readBack(ctx, stream, name, first, data)
	if err != nil {
		return nil, fmt.Errorf("eventstore/eventstoredb: append to %s succeeded (revisions %d to %d) but: %w",
			stream, first, res.NextExpectedVersion, err)
	}
	return stored, nil
}

// readBack reads the events just appended at revisions first… and checks
// they are the ones sent.
func (s *Store) readBack(ctx context.Context, stream, name string, first uint64, sent []esdb.EventData) ([]events.Envelope, error) {
	recs, err := s.readRecorded(ctx, name, first, uint64(len(sent)))
	if err != nil {
		return nil, fmt.Errorf("read them back: %w", err)
	}
	if len(recs) != len(sent) {
		return nil, fmt.Errorf("read back %d events, want %d (is the node a follower?)", len(recs), len(sent))
	}
	out := make([]events.Envelope, len(recs))
	for i, r := range recs {
		if r.EventID != sent[i].EventID {
			return nil, fmt.Errorf("revision %d holds event %s, not the appended %s", r.EventNumber, r.EventID, sent[i].EventID)
		}
		if out[i], err = decode(s.names, r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkVersion is the expected-version check of an empty append (nothing
// is sent to the server, so it checks by reading the stream's last event).
func (s *Store) checkVersion(ctx context.Context, stream, name string, expectedVersion int64) error {
	if expectedVersion == eventstore.ExpectAny {
		return nil
	}
	c, err := s.conn()
	if err != nil {
		return err
	}
	recs, err := callCtx(ctx, func() ([]*esdb.RecordedEvent, error) {
		return c.ReadStream(ctx, name, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1)
	}, nil)
	var current int64
	switch err = mapError(ctx, "read "+stream, err); {
	case errors.Is(err, errNotFound):
	case err != nil:
		s.failed(c, err)
		return err
	case len(recs) > 0:
		if current, err = versionOf(recs[0].EventNumber); err != nil {
			return err
		}
	}
	if current != expectedVersion {
		return fmt.Errorf("%w: stream %s is at version %d, expected %d", eventstore.ErrConcurrency, stream, current, expectedVersion)
	}
	return nil
}
