// Package eventstoretest is the conformance suite every eventstore.Store
// implementation runs from its own tests:
//
//	func TestConformance(t *testing.T) {
//		eventstoretest.Run(t, func(t *testing.T) eventstore.Store { return openFresh(t) })
//	}
//
// newStore must return a new, empty store for each call. Run closes it when
// the subtest ends; newStore registers any other cleanup (temp files) with
// t.Cleanup. Run checks every guarantee, gap-free positions included; a
// store without some (EventStoreDB) calls RunWithFeatures with the ones it
// gives.
//
// Beyond the Store doc comments, the suite pins these behaviours down:
//   - Append rejects, writing nothing: an empty stream name, an expected
//     version below ExpectAny, an event without Type, Data that is not JSON.
//   - Append of zero events succeeds and writes nothing.
//   - Time round-trips to within a microsecond; Data round-trips byte for byte.
//   - Subscribe returns an error satisfying errors.Is(err, context.Canceled)
//     when its ctx is cancelled, and a handler's error wrapped (errors.Is).
//   - A subscriber following 16 concurrent appenders sees every position
//     exactly once, in order, with no gap (FollowConcurrentAppends), and
//     ExpectAny appends racing on one stream all succeed.
//   - Positions are strictly increasing in commit order and Head is the
//     last event's; with Features.GapFreePositions they are exactly 1..n.
package eventstoretest

import (
	"testing"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
)

// Run runs every conformance test against stores made by newStore,
// requiring every feature (SQLFeatures).
func Run(t *testing.T, newStore func(t *testing.T) eventstore.Store) {
	t.Helper()
	RunWithFeatures(t, SQLFeatures, newStore)
}

// RunWithFeatures runs every conformance test, checking the optional
// guarantees f lists and only the contract's rules otherwise.
func RunWithFeatures(t *testing.T, f Features, newStore func(t *testing.T) eventstore.Store) {
	t.Helper()
	groups := []struct {
		name  string
		tests []test
	}{
		{"Append", appendTests},
		{"Read", readTests},
		{"Metadata", metadataTests},
		{"Concurrency", concurrencyTests},
		{"Subscribe", subscribeTests},
		{"Follow", followTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					s := newStore(t)
					t.Cleanup(func() {
						if err := s.Close(); err != nil {
							t.Errorf("Close: %v", err)
						}
					})
					tc.run(t, s, f)
				})
			}
		})
	}
}

type test struct {
	name string
	run  func(t *testing.T, s eventstore.Store, f Features)
}
