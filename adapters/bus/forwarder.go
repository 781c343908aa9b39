package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/octavia-es/octavia-es/events"
)

// CheckpointName is the forwarder's checkpoint. Never rename it: a renamed
// checkpoint republishes the whole store.
const CheckpointName = "forwarder"

// Source is where events come from (eventstore.Store.Subscribe).
type Source interface {
	// Subscribe delivers every event with Position > afterPosition, in
	// order, then new ones as they commit, until ctx ends or handle fails.
	Subscribe(ctx context.Context, afterPosition int64, handle func(context.Context, events.Envelope) error) error
}

// Checkpoints persists named positions ((*sqlite.Store).Checkpoints()).
type Checkpoints interface {
	Get(ctx context.Context, name string) (int64, error)
	Set(ctx context.Context, name string, position int64) error
}

// Forwarder publishes stored events on a topic, in position order,
// resuming after its checkpoint. Set the exported fields before Run.
type Forwarder struct {
	src   Source
	cp    Checkpoints
	pub   message.Publisher
	topic string
	log   *slog.Logger

	// Ready, when set, is waited for before the first publish; give it
	// router.Running() (GoChannel drops messages nobody subscribed to).
	Ready <-chan struct{}
	// The checkpoint is written when FlushEvery events were published since
	// the last write, at the latest FlushInterval after a publish, and on
	// shutdown. Defaults: 100 events, 100 ms.
	FlushEvery    int
	FlushInterval time.Duration
	// RetryDelay: RunWithLease's wait after a failed run. Default 1 s.
	RetryDelay time.Duration
}

// NewForwarder returns a forwarder from src to topic on pub.
func NewForwarder(src Source, cp Checkpoints, pub message.Publisher, topic string, log *slog.Logger) *Forwarder {
	if log == nil {
		log = slog.Default()
	}
	return &Forwarder{src: src, cp: cp, pub: pub, topic: topic, log: log, FlushEvery: 100, FlushInterval: 100 * time.Millisecond}
}

// Run forwards until ctx ends (then it returns nil, after saving the
// checkpoint) or the source or publisher fails.
func (f *Forwarder) Run(ctx context.Context) error {
	if f.src == nil || f.cp == nil || f.pub == nil || f.topic == "" {
		return errors.New("bus: forwarder needs a source, checkpoints, a publisher and a topic")
	}
	if f.FlushEvery <= 0 || f.FlushInterval <= 0 {
		return errors.New("bus: forwarder: FlushEvery and FlushInterval must be positive")
	}
	if f.Ready != nil {
		select {
		case <-f.Ready:
		case <-ctx.Done():
			return nil
		}
	}
	start, err := f.cp.Get(ctx, CheckpointName)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("bus: forwarder: read checkpoint: %w", err)
	}
	f.log.Info("forwarder starting", "after_position", start, "topic", f.topic)
	ck := &checkpoint{cp: f.cp, published: start, saved: start}

	tickCtx, stopTicker := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { f.flushEvery(tickCtx, ck) })

	err = f.src.Subscribe(ctx, start, func(ctx context.Context, env events.Envelope) error {
		if env.Position <= ck.last() {
			return nil // delivered twice: already published
		}
		msg, err := NewMessage(env)
		if err != nil {
			return err
		}
		if err := f.pub.Publish(f.topic, msg); err != nil {
			return fmt.Errorf("publish event %s at position %d: %w", env.ID, env.Position, err)
		}
		if ck.advance(env.Position) >= int64(f.FlushEvery) {
			f.flush(ctx, ck)
		}
		return nil
	})
	stopTicker()
	wg.Wait()

	// Save what was published even though ctx is done.
	flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	flushErr := ck.flush(flushCtx)
	if flushErr != nil {
		flushErr = fmt.Errorf("bus: forwarder: save checkpoint: %w", flushErr)
	}
	if ctx.Err() != nil {
		return flushErr
	}
	return errors.Join(fmt.Errorf("bus: forwarder: %w", err), flushErr)
}

func (f *Forwarder) flushEvery(ctx context.Context, ck *checkpoint) {
	t := time.NewTicker(f.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f.flush(ctx, ck)
		}
	}
}

// flush saves the checkpoint; a failure is logged and retried at the next
// flush (the checkpoint only bounds how much is republished after a crash).
func (f *Forwarder) flush(ctx context.Context, ck *checkpoint) {
	if err := ck.flush(ctx); err != nil && ctx.Err() == nil {
		f.log.Warn("forwarder: save checkpoint failed", "error", err)
	}
}

// checkpoint tracks the last published position and the last saved one.
type checkpoint struct {
	cp Checkpoints

	mu        sync.Mutex
	published int64
	saved     int64

	flushMu sync.Mutex // one Set at a time, so saved only grows
}

func (c *checkpoint) last() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.published
}

// advance records a published position and returns how many are unsaved.
func (c *checkpoint) advance(pos int64) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.published = pos
	return c.published - c.saved
}

func (c *checkpoint) flush(ctx context.Context) error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	c.mu.Lock()
	pos, saved := c.published, c.saved
	c.mu.Unlock()
	if pos == saved {
		return nil
	}
	if err := c.cp.Set(ctx, CheckpointName, pos); err != nil {
		return err
	}
	c.mu.Lock()
	c.saved = pos
	c.mu.Unlock()
	return nil
}
