package eventstoretest

import (
	"context"
	"fmt"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/events"
)

// Features says which optional guarantees a store gives; the suite checks
// those it is told of and only the contract's rules otherwise (as
// watermill's pubsub tests take a Features value).
type Features struct {
	// GapFreePositions: the global positions are exactly 1, 2, 3, … in
	// commit order, so position n is the n-th event (the SQL stores).
	// Without it the suite requires only what every store promises:
	// positions positive and strictly increasing in commit order, Head the
	// position of the last event, and afterPosition either 0 or a position
	// the store returned (EventStoreDB's $all log positions have gaps).
	GapFreePositions bool
}

// SQLFeatures are the guarantees of the SQL stores: every feature.
var SQLFeatures = Features{GapFreePositions: true}

// ordinals translates between the positions a store assigned and ordinals
// (1 is the first event in ReadAll order), so tests state their
// expectations as ordinals whatever the store's numbering. With
// GapFreePositions the translation must be the identity, which is checked
// when it is built.
type ordinals struct {
	gapFree bool
	pos     []int64         // pos[k-1] is the position of the k-th event
	ord     map[int64]int64 // the inverse
}

// readOrdinals reads the whole store and fails the test unless its
// positions are positive and strictly increasing (and 1..n when gap-free).
func readOrdinals(ctx context.Context, t *testing.T, s eventstore.Store, f Features) *ordinals {
	t.Helper()
	o, err := newOrdinals(ctx, s, f)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func newOrdinals(ctx context.Context, s eventstore.Store, f Features) (*ordinals, error) {
	all, err := readAll(ctx, s)
	if err != nil {
		return nil, err
	}
	o := &ordinals{gapFree: f.GapFreePositions, ord: make(map[int64]int64, len(all))}
	if err := checkPositions(f, all, 0); err != nil {
		return nil, err
	}
	for i, e := range all {
		o.pos = append(o.pos, e.Position)
		o.ord[e.Position] = int64(i + 1)
	}
	return o, nil
}

// of returns the ordinals of positions; a position that is not an event's
// (nor 0) maps to -1, which no expectation holds.
func (o *ordinals) of(positions []int64) []int64 {
	out := make([]int64, len(positions))
	for i, p := range positions {
		out[i] = o.one(p)
	}
	return out
}

func (o *ordinals) one(p int64) int64 {
	if p == 0 {
		return 0
	}
	if k, ok := o.ord[p]; ok {
		return k
	}
	return -1
}

// at returns the position of the k-th event (0 for k = 0). Beyond the last
// event only a gap-free store has positions (k itself); ok is false
// otherwise, and a test skips what it cannot state.
func (o *ordinals) at(k int64) (p int64, ok bool) {
	switch {
	case k == 0:
		return 0, true
	case k <= int64(len(o.pos)):
		return o.pos[k-1], true
	case o.gapFree:
		return k, true
	}
	return 0, false
}

// mustAt is at for ordinals a test knows exist.
func (o *ordinals) mustAt(t *testing.T, k int64) int64 {
	t.Helper()
	p, ok := o.at(k)
	if !ok {
		t.Fatalf("no event %d: the store holds %d", k, len(o.pos))
	}
	return p
}

// ordinalOf is one(p) for a position read from the store at the time of
// the check: the store is read again, so every event so far is known.
func ordinalOf(ctx context.Context, t *testing.T, s eventstore.Store, f Features, p int64) int64 {
	t.Helper()
	return readOrdinals(ctx, t, s, f).one(p)
}

// headOrdinal is the ordinal of the store's Head.
func headOrdinal(ctx context.Context, t *testing.T, s eventstore.Store, f Features) int64 {
	t.Helper()
	return ordinalOf(ctx, t, s, f, mustHead(ctx, t, s))
}

// follows reports whether a delivery at position p may come right after
// one at last: the next integer when gap-free, any higher position else.
func (f Features) follows(last, p int64) bool {
	if f.GapFreePositions {
		return p == last+1
	}
	return p > last
}

// checkPositions returns an error unless the positions of evs, read after
// position after, each follow the one before.
func checkPositions(f Features, evs []events.Envelope, after int64) error {
	last := after
	for i, e := range evs {
		if !f.follows(last, e.Position) {
			what := "not strictly increasing"
			if f.GapFreePositions {
				what = "not gap-free"
			}
			return fmt.Errorf("ReadAll entry %d has position %d after %d: positions %s", i, e.Position, last, what)
		}
		last = e.Position
	}
	return nil
}
