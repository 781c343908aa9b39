package noop

import (
	"context"
	"errors"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/compute"
	"github.com/octavia-es/octavia-es/adapters/compute/computetest"
	"github.com/octavia-es/octavia-es/adapters/noopkit"
)

func TestConformance(t *testing.T) {
	computetest.Run(t, func(t *testing.T) compute.Driver {
		d, err := New(Config{})
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

func TestFaultsAndRecording(t *testing.T) {
	d, err := New(Config{Faults: noopkit.Config{FailOn: []string{OpCreateAmphora}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	req := compute.AmphoraRequest{LoadBalancerID: "lb", AmphoraID: "amp-1", Role: "STANDALONE"}
	if _, err := d.CreateAmphora(ctx, req); !errors.Is(err, noopkit.ErrInjected) {
		t.Fatalf("err = %v, want ErrInjected", err)
	}
	if d.Running() != 0 {
		t.Fatal("a failed create left an instance running")
	}
	d.ClearFailures()
	a, err := d.CreateAmphora(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if a.LBNetworkIP != DefaultLBNetworkIP || d.Running() != 1 {
		t.Fatalf("amphora %+v, running %d", a, d.Running())
	}
	want := []noopkit.Call{
		{Op: OpCreateAmphora, Args: "lb=lb amphora=amp-1 role=STANDALONE"},
		{Op: OpCreateAmphora, Args: "lb=lb amphora=amp-1 role=STANDALONE"},
	}
	got := d.Calls()
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("calls = %+v, want %+v", got, want)
	}
}
