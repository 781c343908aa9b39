package sagas

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	computenoop "github.com/octavia-es/octavia-es/adapters/compute/noop"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
)

type recordedStep struct {
	op, step string
	failed   bool
}

type stepRecorder struct {
	mu    sync.Mutex
	steps []recordedStep
}

func (r *stepRecorder) StepDone(op, step string, d time.Duration, failed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d < 0 {
		panic("negative duration")
	}
	r.steps = append(r.steps, recordedStep{op, step, failed})
}

// TestObserverSeesEveryStep: a create whose amphora cannot boot reports
// its steps in order, the boot as failed, and nothing else as failed.
func TestObserverSeesEveryStep(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail bool
		want []recordedStep
	}{
		{"success", false, []recordedStep{
			{OpCreate, string(AllocateVIP), false}, {OpCreate, string(BootAmphora), false}, {OpCreate, string(ConfigureAndActivate), false}}},
		{"boot fails", true, []recordedStep{
			{OpCreate, string(AllocateVIP), false}, {OpCreate, string(BootAmphora), true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			if tc.fail {
				r.comp.FailOn(computenoop.OpCreateAmphora, nil)
			}
			rec := &stepRecorder{}
			cfg := fastConfig
			cfg.Observer = rec
			p, err := NewProvisioner(r.exec, Drivers{Network: r.net, Compute: r.comp, Amphora: r.amp, ComputeName: "noop"}, cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			r.p = p
			r.deliver(r.do(loadbalancer.CreateLoadBalancer{Spec: lbSpec()}))
			got := fmt.Sprint(rec.steps)
			if !slices.Equal(rec.steps, tc.want) {
				t.Fatalf("steps %s, want %v", got, tc.want)
			}
		})
	}
}
