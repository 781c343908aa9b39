package main

import (
	"strings"
	"testing"
)

func TestAmphoraTable(t *testing.T) {
	var out strings.Builder
	r := Result{Workers: 8, Reference: octaviaRef(), EventStore: EventStore{Error: "not run in this test"},
		Amphorae: AmphoraResult{
			CreateActive:        &Summary{N: 20, P50Ms: 120, P99Ms: 250},
			FullStack:           &Summary{N: 10, P50Ms: 200, P99Ms: 400},
			Direct:              &Summary{N: 30000, ReqPerSec: 10000},
			ByHand:              &Summary{N: 24000, ReqPerSec: 8000},
			Amphora:             &Summary{N: 24000, ReqPerSec: 7900},
			FailoverTraffic:     &Summary{N: 3, P50Ms: 3500, P99Ms: 3600},
			FailoverActive:      &Summary{N: 3, P50Ms: 3550, P99Ms: 3700},
			HeartbeatTimeoutSec: 3,
		}}
	if err := WriteReport(&out, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"POST LB → ACTIVE seq (agent + HAProxy started)", "p50 < 300 ms: met",
		"GET through HAProxy by hand, same config c8", "0.80× req/s",
		"GET through the amphora's VIP c8", "0.79× req/s", "amphora vs HAProxy by hand", "0.99× req/s",
		"kill -9 amphora → traffic served again", "heartbeat_timeout 3 s", "1.2× p50",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}

	out.Reset()
	r.Amphorae = AmphoraResult{Skipped: "haproxy not installed"}
	if err := WriteReport(&out, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "not run: haproxy not installed") {
		t.Errorf("skipped amphorae not reported:\n%s", out.String())
	}
}
