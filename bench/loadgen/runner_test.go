package main

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunBounds(t *testing.T) {
	tests := []struct {
		name      string
		workers   int
		bound     Bound
		opTime    time.Duration
		fail      bool
		wantN     int // exact count of successes, or -1 for "fewer than bound.N"
		wantErrs  int
		maxWallMs int64
	}{
		{"count bound, sequential", 1, Bound{N: 25, Budget: 5 * time.Second}, 0, false, 25, 0, 2000},
		{"count bound, concurrent", 4, Bound{N: 50, Budget: 5 * time.Second}, 0, false, 50, 0, 2000},
		{"time bound", 2, Bound{N: 1 << 30, Budget: 100 * time.Millisecond}, 5 * time.Millisecond, false, -1, 0, 1000},
		{"errors stop early", 1, Bound{N: 1000, Budget: 5 * time.Second}, 0, true, 0, 20, 2000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int64
			op := Timed(func(ctx context.Context, _ int) error {
				calls.Add(1)
				if tc.opTime > 0 {
					select {
					case <-time.After(tc.opTime):
					case <-ctx.Done():
						return ctx.Err()
					}
				}
				if tc.fail {
					return errors.New("boom")
				}
				return nil
			})
			s := Run(context.Background(), tc.workers, tc.bound, op)
			if tc.wantN >= 0 && len(s.Latencies) != tc.wantN {
				t.Fatalf("successes = %d, want %d", len(s.Latencies), tc.wantN)
			}
			if tc.wantN < 0 && (len(s.Latencies) == 0 || len(s.Latencies) >= tc.bound.N) {
				t.Fatalf("successes = %d, want some but fewer than %d", len(s.Latencies), tc.bound.N)
			}
			if s.Errors != tc.wantErrs {
				t.Fatalf("errors = %d, want %d", s.Errors, tc.wantErrs)
			}
			if tc.wantErrs > 0 && s.FirstErr != "boom" {
				t.Fatalf("first error %q, want boom", s.FirstErr)
			}
			if s.Wall.Milliseconds() > tc.maxWallMs {
				t.Fatalf("took %s, bound was %s", s.Wall, tc.bound.Budget)
			}
		})
	}
}
