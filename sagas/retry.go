package sagas

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/octavia-es/octavia-es/adapters/network"
)

// stepFailure: a driver call still failed after its retries. Handle
// compensates it; store errors are returned as they are instead.
type stepFailure struct {
	Op  string // the driver operation, e.g. "compute.create_amphora"
	Err error
}

func (f *stepFailure) Error() string { return fmt.Sprintf("%s: %v", f.Op, f.Err) }
func (f *stepFailure) Unwrap() error { return f.Err }

// permanent errors cannot succeed on a retry.
func permanent(err error) bool {
	for _, e := range []error{network.ErrSubnetNotFound, network.ErrAddressInUse, network.ErrNoFreeAddress, network.ErrInvalidAddress} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// try calls fn up to StepAttempts times with exponential backoff. It
// returns a *stepFailure when fn keeps failing, or ctx's error when ctx
// ends first.
func (p *Provisioner) try(ctx context.Context, op string, fn func(context.Context) error) error {
	return p.tryFor(ctx, op, p.cfg.StepAttempts, 0, fn)
}

// tryFor retries fn up to attempts times, or until timeout has passed
// when timeout > 0.
func (p *Provisioner) tryFor(ctx context.Context, op string, attempts int, timeout time.Duration, fn func(context.Context) error) error {
	wait := p.cfg.StepBackoff
	start := time.Now()
	for n := 1; ; n++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		out := timeout > 0 && time.Since(start)+wait > timeout || timeout <= 0 && n >= attempts
		if permanent(err) || out {
			return &stepFailure{Op: op, Err: err}
		}
		p.log.DebugContext(ctx, "driver call failed; retrying", "op", op, "attempt", n, "wait", wait, "error", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, p.cfg.MaxStepBackoff)
	}
}
