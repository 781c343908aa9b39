package eventstoredb

import (
	"context"
	"sync"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// headCache remembers what the last scans of $all found: no event of the
// store lies in (head, top], top being the highest $all position scanned.
// A scan then stops at top instead of going back to the store's last event
// through every other stream's, however old that event is.
type headCache struct {
	mu        sync.Mutex
	head, top int64
}

func (h *headCache) get() (head, top int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.head, h.top
}

// update records a scan up to top that found head; an older scan (lower
// top) that finishes later changes nothing.
func (h *headCache) update(head, top int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if top > h.top {
		h.top, h.head = top, max(h.head, head)
	}
}

// Head implements eventstore.Store: the position of the store's last event,
// found by reading $all backwards from its end (unfiltered: the Go client
// sends no filter with a read) down to the first event of the store's
// streams, or to where the previous scan started.
func (s *Store) Head(ctx context.Context) (int64, error) {
	c, err := s.conn()
	if err != nil {
		return 0, err
	}
	known, top := s.head.get()
	var scanTop int64 // the highest $all position this scan saw
	floor := int64(-1)
	from := esdb.AllPosition(esdb.End{})
	count := s.headFirstPage
	for {
		page, err := callCtx(ctx, func() ([]*esdb.RecordedEvent, error) {
			return c.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: from}, count)
		}, nil)
		if err != nil {
			s.failed(c, err)
			return 0, mapError(ctx, "head: read $all backwards", err)
		}
		progressed := false
		for _, r := range page {
			at := allOrder(r.Position)
			if floor >= 0 && at >= floor {
				continue // a page starts at or before the last one's end
			}
			progressed = true
			floor = at
			if scanTop == 0 {
				scanTop = at
			}
			if at <= top {
				s.head.update(known, scanTop)
				return known, nil
			}
			if _, ours := s.names.ours(r.StreamID); ours {
				p, err := positionOf(r.Position)
				if err != nil {
					return 0, err
				}
				s.head.update(p, scanTop)
				return p, nil
			}
		}
		if uint64(len(page)) < count || !progressed {
			// The beginning of $all: nothing of the store's after known.
			s.head.update(known, scanTop)
			return known, nil
		}
		last := page[len(page)-1].Position
		from = esdb.Position{Commit: last.Commit, Prepare: last.Prepare}
		count = s.headPage
	}
}

// allOrder is where an event of any stream sits in $all, for comparisons
// with our positions: its commit position (its log position when that is
// unknown), capped to int64.
func allOrder(p esdb.Position) int64 {
	v := p.Commit
	if v == unknownPosition {
		v = p.Prepare
	}
	if v > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(v)
}
