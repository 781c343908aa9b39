package sagas

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/google/uuid"

	"github.com/octavia-es/octavia-es/events"
)

// Resume drives the given load balancers' pending operations to their end:
// at start-up, for those the read model shows in PENDING_* (sagas in flight
// when a process died, messages lost with it). Give it the ids once the
// read model has caught up with the store. Each gets a fresh correlation
// id; failures are joined.
func (p *Provisioner) Resume(ctx context.Context, ids []string) error {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	limit := make(chan struct{}, p.cfg.MaxConcurrent)
	for _, id := range ids {
		if id == "" {
			continue
		}
		select {
		case limit <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return errors.Join(append(errs, ctx.Err())...)
		}
		wg.Go(func() {
			defer func() { <-limit }()
			err := p.Handle(ctx, id, events.Metadata{CorrelationID: uuid.NewString()})
			if err != nil {
				p.log.ErrorContext(ctx, "resume failed", "loadbalancer_id", id, "error", err)
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
