package bus

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// RunWithLease runs the forwarder while this process holds lease, so that
// one process forwards at a time however many run it (RunLeased). Each run
// resumes after the saved checkpoint: a takeover republishes what the
// previous holder published after its last checkpoint write (at least
// once).
func (f *Forwarder) RunWithLease(ctx context.Context, lease Lease) error {
	retry := f.RetryDelay
	if retry <= 0 {
		retry = time.Second
	}
	return RunLeased(ctx, lease, "forwarder", retry, f.log, f.Run)
}

// RunLeased runs run while this process holds lease. On losing the lease
// it cancels run and competes again; if run fails it releases the lease
// (another process may do better), waits retry and competes again. It
// returns nil when ctx ends, and the lease's error if Acquire fails
// otherwise (a lease retries what can be retried itself: such an error is
// permanent, a bad DSN say). name labels the logs.
func RunLeased(ctx context.Context, lease Lease, name string, retry time.Duration, log *slog.Logger, run func(context.Context) error) error {
	if lease == nil {
		return fmt.Errorf("bus: %s: RunLeased needs a lease", name)
	}
	for {
		lost, release, err := lease.Acquire(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("bus: %s: lease: %w", name, err)
		}
		log.Info(name + ": lease acquired")
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
		err = run(runCtx)
		close(stopped)
		cancel()
		release()
		lostIt := <-wasLost
		switch {
		case ctx.Err() != nil:
			return nil
		case lostIt:
			log.Warn(name+": lease lost; stopped", "error", err)
		default:
			log.Error(name+" failed; lease released, retrying", "error", err, "after", retry)
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
