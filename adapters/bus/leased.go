package bus

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// RunWithLease runs the forwarder while this process holds lease, so that
// one process forwards at a time however many run it. On losing the lease
// it stops forwarding and competes again; if the forwarder fails it
// releases the lease (another process may do better), waits RetryDelay
// and competes again. Each run resumes after the saved checkpoint: a
// takeover republishes what the previous holder published after its last
// checkpoint write (at least once). It returns nil when ctx ends, and the
// lease's error if Acquire fails otherwise (a lease retries what can
// be retried itself: such an error is permanent, a bad DSN say).
func (f *Forwarder) RunWithLease(ctx context.Context, lease Lease) error {
	if lease == nil {
		return errors.New("bus: forwarder: RunWithLease needs a lease")
	}
	retry := f.RetryDelay
	if retry <= 0 {
		retry = time.Second
	}
	for {
		lost, release, err := lease.Acquire(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("bus: forwarder: lease: %w", err)
		}
		f.log.Info("forwarder: lease acquired")
		runCtx, cancel := context.WithCancel(ctx)
		stopped := make(chan struct{})
		wasLost := make(chan bool, 1)
		go func() {
			select {
			case <-lost:
				wasLost <- true
				cancel()
			case <-stopped:
				wasLost <- false
			}
		}()
		err = f.Run(runCtx)
		close(stopped)
		cancel()
		release()
		lostIt := <-wasLost
		switch {
		case ctx.Err() != nil:
			return nil
		case lostIt:
			f.log.Warn("forwarder: lease lost; stopped forwarding", "error", err)
		default:
			f.log.Error("forwarder failed; lease released, retrying", "error", err, "after", retry)
			if !sleep(ctx, retry) {
				return nil
			}
		}
	}
}

// sleep waits d or until ctx ends (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
