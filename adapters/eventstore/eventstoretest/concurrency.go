package eventstoretest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/events"
)

var concurrencyTests = []test{
	{"DistinctStreamsGetDistinctIncreasingPositions", testConcurrentDistinctStreams},
	{"RaceOnOneStreamHasOneWinnerPerVersion", testRaceOnOneStream},
	{"ReadersNeverSeePartOfABatch", testBatchVisibility},
}

// runAll runs n workers at once (released together) and returns their errors.
func runAll(n int, work func(i int) error) []error {
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = work(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func testConcurrentDistinctStreams(t *testing.T, s eventstore.Store, f Features) {
	ctx := testContext(t)
	const writers, appends = 8, 15
	// Odd appends carry two events, so batches and single events interleave.
	perStream := int64(appends + appends/2)
	errs := runAll(writers, func(w int) error {
		stream := fmt.Sprintf("lb-%d", w)
		var version int64
		for i := range appends {
			batch := newEvents(fmt.Sprintf("W%d", w), 1+i%2)
			got, err := s.Append(ctx, stream, version, batch)
			if err != nil {
				return fmt.Errorf("%s append %d: %w", stream, i, err)
			}
			version = got[len(got)-1].Version
		}
		return nil
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}

	total := writers * perStream
	all := readEverything(ctx, t, s)
	if err := checkPositions(f, all, 0); err != nil || int64(len(all)) != total {
		t.Fatalf("%d events, want %d; positions %v: %v", len(all), total, positions(all), err)
	}
	if h := mustHead(ctx, t, s); h != all[total-1].Position {
		t.Errorf("Head = %d, want the last position %d", h, all[total-1].Position)
	}
	byStream := map[string][]int64{}
	for _, e := range all {
		byStream[e.Stream] = append(byStream[e.Stream], e.Version)
	}
	for w := range writers {
		stream := fmt.Sprintf("lb-%d", w)
		// In position order, so versions also prove commit order per stream.
		if got := byStream[stream]; !equalInts(got, seq(1, perStream)) {
			t.Errorf("%s versions in position order %v, want 1..%d", stream, got, perStream)
		}
	}
}

func testRaceOnOneStream(t *testing.T, s eventstore.Store, f Features) {
	ctx := testContext(t)
	const rounds, racers = 12, 6
	var winners []events.Envelope
	for r := range rounds {
		won := make([]events.Envelope, racers)
		errs := runAll(racers, func(i int) error {
			got, err := s.Append(ctx, "lb-1", int64(r), []events.Envelope{newEvent(fmt.Sprintf("R%d", i), r)})
			if err == nil {
				won[i] = got[0]
			}
			return err
		})
		wins := 0
		for i, err := range errs {
			switch {
			case err == nil:
				wins++
				winners = append(winners, won[i])
			case !errors.Is(err, eventstore.ErrConcurrency):
				t.Errorf("round %d racer %d: err = %v, want nil or ErrConcurrency", r, i, err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d racers won, want exactly 1", r, wins)
		}
	}
	stored := mustReadStream(ctx, t, s, "lb-1", 0)
	if !equalInts(versions(stored), seq(1, rounds)) {
		t.Fatalf("stream versions %v, want 1..%d", versions(stored), rounds)
	}
	for i := range stored {
		if d := sameEnvelope(stored[i], winners[i]); d != "" {
			t.Errorf("version %d is not the winner's event: %s", i+1, d)
		}
	}
	if h := headOrdinal(ctx, t, s, f); h != rounds {
		t.Errorf("Head is event %d, want %d (losers wrote nothing)", h, rounds)
	}
}

// testBatchVisibility: while batches of 5 are appended, a reader must only
// ever see whole batches.
func testBatchVisibility(t *testing.T, s eventstore.Store, _ Features) {
	ctx := testContext(t)
	const batches, size = 30, 5
	done := make(chan struct{})
	var readErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			all, err := s.ReadAll(ctx, 0, batches*size+1)
			if err != nil {
				readErr = err
				return
			}
			if len(all)%size != 0 {
				readErr = fmt.Errorf("reader saw %d events, not a whole number of %d-event batches", len(all), size)
				return
			}
		}
	})
	for b := range batches {
		if _, err := s.Append(ctx, fmt.Sprintf("s-%d", b%3), eventstore.ExpectAny, newEvents("B", size)); err != nil {
			close(done)
			wg.Wait()
			t.Fatalf("append batch %d: %v", b, err)
		}
	}
	close(done)
	wg.Wait()
	if readErr != nil {
		t.Fatal(readErr)
	}
}
