package main

import (
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	ms := time.Millisecond
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(100-i) * ms // reversed: Summarize must sort
	}
	tests := []struct {
		name          string
		in            Sample
		p50, p99, max float64
		rps           float64
	}{
		{"empty", Sample{Wall: time.Second}, 0, 0, 0, 0},
		{"one", Sample{Latencies: []time.Duration{3 * ms}, Wall: time.Second}, 3, 3, 3, 1},
		{"hundred nearest rank", Sample{Latencies: hundred, Wall: 2 * time.Second}, 50, 99, 100, 50},
		{"two", Sample{Latencies: []time.Duration{2 * ms, 1 * ms}, Wall: time.Second}, 1, 2, 2, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Summarize(tc.in)
			if s.P50Ms != tc.p50 || s.P99Ms != tc.p99 || s.MaxMs != tc.max || s.ReqPerSec != tc.rps {
				t.Fatalf("got p50 %v p99 %v max %v rps %v, want %v %v %v %v", s.P50Ms, s.P99Ms, s.MaxMs, s.ReqPerSec, tc.p50, tc.p99, tc.max, tc.rps)
			}
			if s.N != len(tc.in.Latencies) {
				t.Fatalf("n = %d, want %d", s.N, len(tc.in.Latencies))
			}
		})
	}
}
