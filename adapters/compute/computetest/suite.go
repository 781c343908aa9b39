// Package computetest is the conformance suite every compute.Driver passes.
package computetest

import (
	"context"
	"errors"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/compute"
)

// NewDriver returns a fresh driver; the suite deletes what it creates.
type NewDriver func(t *testing.T) compute.Driver

// Run runs the suite.
func Run(t *testing.T, newDriver NewDriver) {
	tests := []struct {
		name string
		fn   func(*testing.T, compute.Driver)
	}{
		{"CreateStatusDelete", testLifecycle},
		{"CreateIsIdempotentPerAmphora", testIdempotent},
		{"DistinctAmphorae", testDistinct},
		{"DeleteIsIdempotent", testDeleteIdempotent},
		{"StatusUnknown", testStatusUnknown},
		{"CanceledContext", testCanceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newDriver(t)) })
	}
}

func request(amphoraID string) compute.AmphoraRequest {
	return compute.AmphoraRequest{LoadBalancerID: "3f1e2d4c-0000-4000-8000-00000000000a", AmphoraID: amphoraID, Role: "STANDALONE"}
}

func create(t *testing.T, d compute.Driver, amphoraID string) compute.Amphora {
	t.Helper()
	a, err := d.CreateAmphora(context.Background(), request(amphoraID))
	if err != nil {
		t.Fatalf("CreateAmphora(%s): %v", amphoraID, err)
	}
	t.Cleanup(func() { _ = d.DeleteAmphora(context.Background(), a.ComputeID) })
	if a.ComputeID == "" || a.LBNetworkIP == "" {
		t.Fatalf("CreateAmphora = %+v, want a compute id and an lb network ip", a)
	}
	return a
}

func testLifecycle(t *testing.T, d compute.Driver) {
	ctx := context.Background()
	a := create(t, d, "7a0c1e2f-0000-4000-8000-000000000001")
	if st, err := d.Status(ctx, a.ComputeID); err != nil || st != compute.StatusOnline {
		t.Fatalf("Status after create = %q, %v; want ONLINE", st, err)
	}
	if err := d.DeleteAmphora(ctx, a.ComputeID); err != nil {
		t.Fatalf("DeleteAmphora: %v", err)
	}
	if _, err := d.Status(ctx, a.ComputeID); !errors.Is(err, compute.ErrAmphoraNotFound) {
		t.Fatalf("Status after delete: err = %v, want ErrAmphoraNotFound", err)
	}
}

func testIdempotent(t *testing.T, d compute.Driver) {
	first := create(t, d, "7a0c1e2f-0000-4000-8000-000000000002")
	again := create(t, d, "7a0c1e2f-0000-4000-8000-000000000002")
	if first.ComputeID != again.ComputeID {
		t.Fatalf("second create of the same amphora: compute id %s, want %s", again.ComputeID, first.ComputeID)
	}
}

func testDistinct(t *testing.T, d compute.Driver) {
	a := create(t, d, "7a0c1e2f-0000-4000-8000-000000000003")
	b := create(t, d, "7a0c1e2f-0000-4000-8000-000000000004")
	if a.ComputeID == b.ComputeID {
		t.Fatalf("two amphorae share compute id %s", a.ComputeID)
	}
	if err := d.DeleteAmphora(context.Background(), a.ComputeID); err != nil {
		t.Fatal(err)
	}
	if st, err := d.Status(context.Background(), b.ComputeID); err != nil || st != compute.StatusOnline {
		t.Fatalf("deleting one amphora changed another: %q, %v", st, err)
	}
}

func testDeleteIdempotent(t *testing.T, d compute.Driver) {
	ctx := context.Background()
	a := create(t, d, "7a0c1e2f-0000-4000-8000-000000000005")
	for i := range 2 {
		if err := d.DeleteAmphora(ctx, a.ComputeID); err != nil {
			t.Fatalf("DeleteAmphora #%d: %v", i+1, err)
		}
	}
	if err := d.DeleteAmphora(ctx, "00000000-0000-4000-8000-00000000dead"); err != nil {
		t.Fatalf("DeleteAmphora of an unknown instance: %v", err)
	}
}

func testStatusUnknown(t *testing.T, d compute.Driver) {
	if _, err := d.Status(context.Background(), "00000000-0000-4000-8000-00000000dead"); !errors.Is(err, compute.ErrAmphoraNotFound) {
		t.Fatalf("err = %v, want ErrAmphoraNotFound", err)
	}
}

func testCanceled(t *testing.T, d compute.Driver) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a, err := d.CreateAmphora(ctx, request("7a0c1e2f-0000-4000-8000-000000000006"))
	if !errors.Is(err, context.Canceled) {
		_ = d.DeleteAmphora(context.Background(), a.ComputeID)
		t.Fatalf("CreateAmphora with a canceled context: err = %v, want context.Canceled", err)
	}
}
