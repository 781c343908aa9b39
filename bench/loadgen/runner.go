package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Op is one measured operation. It returns the latency to record (an
// operation may measure less than its whole run, e.g. create→ACTIVE stops
// the clock when the GET that shows ACTIVE answers).
type Op func(ctx context.Context, i int) (time.Duration, error)

// Timed wraps f so its whole duration is the latency.
func Timed(f func(ctx context.Context, i int) error) Op {
	return func(ctx context.Context, i int) (time.Duration, error) {
		start := time.Now()
		err := f(ctx, i)
		return time.Since(start), err
	}
}

// Bound caps a load loop in count and in time; whichever comes first ends it.
type Bound struct {
	N      int
	Budget time.Duration
}

// Run calls op from workers goroutines until b.N operations have been
// started or b.Budget has passed, and returns the latencies of the
// successful ones. errStop ends the run early after this many errors, so
// a broken server fails fast instead of burning the budget.
func Run(ctx context.Context, workers int, b Bound, op Op) Sample {
	const errStop = 20
	if workers < 1 {
		workers = 1
	}
	ctx, cancel := context.WithTimeout(ctx, b.Budget)
	defer cancel()

	var (
		next atomic.Int64
		mu   sync.Mutex
		s    Sample
		wg   sync.WaitGroup
	)
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				d, err := op(ctx, i)
				if ctx.Err() != nil {
					return // cut by the budget: neither a sample nor an error
				}
				mu.Lock()
				if err != nil {
					s.Errors++
					if s.FirstErr == "" {
						s.FirstErr = err.Error()
					}
					if s.Errors >= errStop {
						cancel()
					}
				} else {
					s.Latencies = append(s.Latencies, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	s.Wall = time.Since(start)
	return s
}
