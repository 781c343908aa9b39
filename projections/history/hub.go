package history

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/octavia-es/octavia-es/events"
)

// HubStore is what a Hub reads; eventstore.Store satisfies it.
type HubStore interface {
	Store
	Subscribe(ctx context.Context, afterPosition int64, handle func(context.Context, events.Envelope) error) error
	Head(ctx context.Context) (int64, error)
}

// Entry is one event as a Hub hands it to its subscribers: rendered once
// for all of them.
type Entry struct {
	Position int64
	Type     string
	// JSON is the event's Item, encoded.
	JSON []byte
	env  events.Envelope // without its data: what filters look at
	// project is the load balancer's project ("" when unknown).
	project string
	err     error // the event could not be rendered
}

// DefaultHubCapacity is how many recent events a Hub keeps by default.
const DefaultHubCapacity = 4096

// hubCatchUpBatch is how many events one store read of a subscriber behind
// the ring returns.
const hubCatchUpBatch = 256

// Hub fans the event store out to any number of subscribers with one
// subscription: each event is read, decoded, rendered and encoded once,
// kept in a ring of the most recent ones, and every subscriber reads the
// ring at its own pace. A subscriber behind the ring (it resumed from an
// old position, or it is slower than the events) reads the store itself
// until it reaches the ring: so each subscriber gets every event after
// its starting position, in order, once, whatever the others do, and a
// slow one costs no memory but its own place in the store.
//
// The subscription runs only while someone follows: it starts (at the
// store's head) with the first subscriber and stops with the last.
type Hub struct {
	store    HubStore
	reader   *Reader
	capacity int
	log      *slog.Logger

	mu sync.Mutex
	// ring holds the events with a position in (first, last], oldest at
	// ring[start], n of them. Positions increase but may have gaps (an
	// EventStoreDB store's commit positions).
	ring       []Entry
	start, n   int
	first      int64
	last       int64
	positioned bool          // first and last are known
	changed    chan struct{} // closed (and replaced) when the ring grows or is positioned
	subs       int
	gen        int // of the running subscription; an old one's events are dropped
	cancel     context.CancelFunc

	storeReads atomic.Int64 // reads of subscribers behind the ring (observed by tests)
}

// NewHub returns a hub over store rendering with reader (capacity <= 0:
// DefaultHubCapacity).
func NewHub(store HubStore, reader *Reader, capacity int, log *slog.Logger) *Hub {
	if capacity <= 0 {
		capacity = DefaultHubCapacity
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hub{store: store, reader: reader, capacity: capacity, log: log,
		ring: make([]Entry, capacity), changed: make(chan struct{})}
}

// Follow calls emit with every event after position after that f selects,
// in order, until ctx ends (it returns ctx.Err()) or emit fails (its error
// is returned). An event that cannot be rendered ends it with an error
// when f may select it.
func (h *Hub) Follow(ctx context.Context, f Filter, after int64, emit func(Entry) error) error {
	h.acquire()
	defer h.release()
	cursor := after
	batch := make([]Entry, 0, hubCatchUpBatch)
	for {
		h.mu.Lock()
		switch {
		case !h.positioned || cursor >= h.last:
			changed := h.changed
			h.mu.Unlock()
			select {
			case <-changed:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		case cursor < h.first:
			h.mu.Unlock()
			var err error
			if batch, err = h.readStore(ctx, cursor, batch[:0]); err != nil {
				return err
			}
		default:
			batch = batch[:0]
			i := sort.Search(h.n, func(i int) bool { return h.at(i).Position > cursor })
			for ; i < h.n && len(batch) < hubCatchUpBatch; i++ {
				batch = append(batch, h.at(i))
			}
			h.mu.Unlock()
		}
		for _, e := range batch {
			if e.Position <= cursor {
				continue
			}
			if f.matchEnvelope(e.env) {
				if e.err != nil {
					// Maybe transient (a project look-up that failed): once more,
					// for this subscriber.
					if e = h.render(ctx, e.env); e.err != nil {
						return e.err
					}
				}
				if f.ProjectID == "" || e.project == f.ProjectID {
					if err := emit(e); err != nil {
						return err
					}
				}
			}
			cursor = e.Position
		}
	}
}

// readStore reads the events after cursor from the store, rendered.
func (h *Hub) readStore(ctx context.Context, cursor int64, into []Entry) ([]Entry, error) {
	h.storeReads.Add(1)
	envs, err := h.store.ReadAll(ctx, cursor, hubCatchUpBatch)
	if err != nil {
		return nil, fmt.Errorf("history: read events after %d: %w", cursor, err)
	}
	for _, env := range envs {
		into = append(into, h.render(ctx, env))
	}
	return into, nil
}

// render turns an envelope into an Entry.
func (h *Hub) render(ctx context.Context, env events.Envelope) Entry {
	e := Entry{Position: env.Position, Type: env.Type, env: env}
	it, err := h.reader.Item(ctx, env)
	if err == nil {
		e.JSON, err = json.Marshal(it)
	}
	if err != nil {
		e.err = err // with the data kept: a subscriber renders it again
		return e
	}
	e.env.Data = nil // filters never read it; the JSON holds it
	if it.ProjectID != nil {
		e.project = *it.ProjectID
	}
	return e
}

// acquire counts a subscriber in, starting the subscription for the first.
func (h *Hub) acquire() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.subs++
	if h.subs > 1 {
		return
	}
	h.gen++
	h.positioned = false
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go h.run(ctx, h.gen)
}

// release counts a subscriber out, stopping the subscription after the
// last.
func (h *Hub) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.subs--
	if h.subs == 0 {
		h.cancel()
		h.gen++ // whatever the stopped subscription still delivers is dropped
	}
}

// errStale ends a subscription that was replaced.
var errStale = errors.New("history: hub subscription replaced")

// run positions the ring at the store's head and follows the store until
// ctx ends, subscribing again (from where it was) after a failure.
func (h *Hub) run(ctx context.Context, gen int) {
	backoff := 100 * time.Millisecond
	var head int64
	for {
		var err error
		if head, err = h.store.Head(ctx); err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		h.log.Warn("event hub: read the store's head", "err", err)
		if !sleep(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, 5*time.Second)
	}
	h.mu.Lock()
	if gen != h.gen {
		h.mu.Unlock()
		return
	}
	h.first, h.last, h.start, h.n, h.positioned = head, head, 0, 0, true
	h.broadcast()
	h.mu.Unlock()

	backoff = 100 * time.Millisecond
	for {
		h.mu.Lock()
		from := h.last
		h.mu.Unlock()
		err := h.store.Subscribe(ctx, from, func(ctx context.Context, env events.Envelope) error {
			e := h.render(ctx, env)
			h.mu.Lock()
			defer h.mu.Unlock()
			if gen != h.gen {
				return errStale
			}
			if env.Position <= h.last {
				return nil // delivered again after a resubscription
			}
			if h.n == h.capacity { // the oldest goes: the ring now starts after it
				h.first = h.at(0).Position
				h.start = (h.start + 1) % h.capacity
				h.n--
			}
			h.ring[(h.start+h.n)%h.capacity] = e
			h.n++
			h.last = env.Position
			h.broadcast()
			return nil
		})
		if ctx.Err() != nil || errors.Is(err, errStale) {
			return
		}
		h.log.Warn("event hub: subscription ended; subscribing again", "err", err)
		if !sleep(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// at is the i-th oldest entry of the ring (h.mu held).
func (h *Hub) at(i int) Entry { return h.ring[(h.start+i)%h.capacity] }

// broadcast wakes every waiting subscriber (h.mu held).
func (h *Hub) broadcast() {
	close(h.changed)
	h.changed = make(chan struct{})
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
