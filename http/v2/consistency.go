package v2

import (
	"context"
	"errors"

	"github.com/octavia-es/octavia-es/http/fault"
)

// catchUp is read-your-writes: before reading, wait (bounded) until the
// read model reflects every event stored so far, so a GET after any
// client's write sees that write. A write's Result.Position is never above
// the head read after it, so this covers every acknowledged write.
func (a *API) catchUp(ctx context.Context) *fault.Error {
	head, err := a.events.Head(ctx)
	if err != nil {
		return a.internal(ctx, "read event store head", err)
	}
	wctx, cancel := context.WithTimeout(ctx, a.cfg.ReadYourWritesTimeout)
	defer cancel()
	if err := a.read.WaitFor(wctx, head); err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return unavailable("The read model has not yet caught up with the latest changes; please retry.")
		}
		return a.internal(ctx, "wait for read model", err)
	}
	return nil
}
