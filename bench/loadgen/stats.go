package main

import (
	"math"
	"sort"
	"time"
)

// Sample is a set of latencies measured by one scenario plus the wall time
// the scenario took, so both percentiles and throughput come from one run.
type Sample struct {
	Latencies []time.Duration
	Errors    int
	FirstErr  string // the first error, for the report
	Wall      time.Duration
}

// Summary is what the report prints of a Sample.
type Summary struct {
	N         int     `json:"n"`
	Errors    int     `json:"errors"`
	P50Ms     float64 `json:"p50_ms"`
	P99Ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
	ReqPerSec float64 `json:"req_per_s"`
	WallSec   float64 `json:"wall_s"`
	FirstErr  string  `json:"first_error,omitempty"`
}

// Summarize computes nearest-rank percentiles (no interpolation: every
// printed value is one that was really observed) and the rate of successful
// operations over the wall time.
func Summarize(s Sample) Summary {
	out := Summary{N: len(s.Latencies), Errors: s.Errors, WallSec: s.Wall.Seconds(), FirstErr: s.FirstErr}
	if len(s.Latencies) == 0 {
		return out
	}
	sorted := append([]time.Duration(nil), s.Latencies...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	out.P50Ms = ms(percentile(sorted, 50))
	out.P99Ms = ms(percentile(sorted, 99))
	out.MaxMs = ms(sorted[len(sorted)-1])
	if s.Wall > 0 {
		out.ReqPerSec = float64(len(s.Latencies)) / s.Wall.Seconds()
	}
	return out
}

// percentile returns the nearest-rank p-th percentile of sorted (non-empty).
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	if rank > len(sorted) {
		rank = len(sorted)
	}
	return sorted[rank-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
