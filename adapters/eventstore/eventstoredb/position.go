package eventstoredb

import (
	"errors"
	"fmt"
	"math"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
)

// Positions (see docs/eventstore-eventstoredb.md). An event appended through
// gRPC commits itself: its $all position has Commit == Prepare == its own
// offset in the transaction log. Our Position is that offset: strictly
// increasing in commit order, unique, never 0 (the log opens with an epoch
// record), but with gaps (the bytes of each record, and of every other
// stream's). Only events of the legacy TCP protocol's explicit transactions
// have Commit != Prepare; their order in $all is by commit, which one
// integer cannot carry, so they are refused rather than misordered.

// unknownPosition is what the server sends for a position it does not
// know (-1 as an unsigned number): the commit position of an event read
// from a stream, on older servers.
const unknownPosition = math.MaxUint64

var errPosition = errors.New("eventstore/eventstoredb: event position unusable")

// positionOf converts an event's $all position to ours.
func positionOf(p esdb.Position) (int64, error) {
	switch {
	case p.Prepare == unknownPosition:
		return 0, fmt.Errorf("%w: no log position", errPosition)
	case p.Commit != unknownPosition && p.Commit != p.Prepare:
		return 0, fmt.Errorf("%w: commit %d != prepare %d (an explicit transaction's event)", errPosition, p.Commit, p.Prepare)
	case p.Prepare == 0 || p.Prepare > math.MaxInt64:
		return 0, fmt.Errorf("%w: log position %d out of range", errPosition, p.Prepare)
	}
	return int64(p.Prepare), nil
}

// allFrom is where a $all read or subscription starts for the events after
// afterPosition: $all's start for 0 (or less), else the position of the
// event at afterPosition. A subscription excludes that event, a read
// includes it; callers skip whatever is at or below afterPosition.
func allFrom(afterPosition int64) esdb.AllPosition {
	if afterPosition <= 0 {
		return esdb.Start{}
	}
	return esdb.Position{Commit: uint64(afterPosition), Prepare: uint64(afterPosition)}
}

// expectedRevision maps an expected version to EventStoreDB's: version v
// is revision v-1 (versions count from 1, revisions from 0).
func expectedRevision(v int64) (esdb.ExpectedRevision, error) {
	switch {
	case v == eventstore.ExpectAny:
		return esdb.Any{}, nil
	case v == eventstore.ExpectNoStream:
		return esdb.NoStream{}, nil
	case v > 0:
		return esdb.Revision(uint64(v - 1)), nil
	}
	return nil, fmt.Errorf("eventstore/eventstoredb: invalid expected version %d", v)
}

// versionOf is the version of the event at revision rev.
func versionOf(rev uint64) (int64, error) {
	if rev >= math.MaxInt64 {
		return 0, fmt.Errorf("eventstore/eventstoredb: stream revision %d out of range", rev)
	}
	return int64(rev) + 1, nil
}

// revisionAfter is the revision of the first event with Version > after.
func revisionAfter(after int64) uint64 {
	if after < 0 {
		return 0
	}
	return uint64(after)
}
