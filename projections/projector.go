package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/octavia-es/octavia-es/events"
)

// Source is what the projector reads: eventstore.Store satisfies it.
type Source interface {
	Subscribe(ctx context.Context, afterPosition int64, handle func(context.Context, events.Envelope) error) error
	ReadStream(ctx context.Context, stream string, afterVersion int64) ([]events.Envelope, error)
}

const (
	// maxBatch bounds one transaction during catch-up.
	maxBatch = 500
	// defaultCacheSize graphs are kept folded; a miss reloads the stream.
	defaultCacheSize = 2048
)

// Projector folds every load balancer stream with loadbalancer.Evolve (the
// only place statuses are derived) and keeps the read model's rows equal to
// the rendered graphs, the checkpoint committed in the same transaction.
type Projector struct {
	rm   *ReadModel
	src  Source
	log  *slog.Logger
	fold *folder
	// written is the checkpoint as this projector last committed or found
	// it: its cached graphs hold the rows as of there. Only Run's loop
	// touches it.
	written int64

	commits atomic.Int64 // transactions committed (observed by tests)
}

// NewProjector returns a projector writing into rm. Run it once at a time.
func NewProjector(rm *ReadModel, src Source, reg *events.Registry, log *slog.Logger) *Projector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Projector{rm: rm, src: src, log: log,
		fold: &folder{src: src, reg: reg, cache: newGraphCache(defaultCacheSize), want: allProjections}}
}

// Run follows the store from the stored checkpoint until ctx ends (it then
// returns ctx.Err()) or an event cannot be projected: an undecodable or
// unknown event stops it with an error rather than being skipped, since a
// skipped fact would leave the read model wrong forever.
//
// Envelopes are handed from the subscription to this loop through a buffer:
// whatever is already buffered (up to maxBatch) is committed in one
// transaction, so catch-up is fast while a lone event commits at once.
//
// Several projectors may run on one PostgreSQL read model (one per process,
// under a lease, or briefly two while a lease changes hands): each write
// transaction locks the checkpoint and commits only if it is where this
// projector left it, so they never interleave their rows (see applyOnce).
func (p *Projector) Run(ctx context.Context) error {
	from, err := p.rm.storedCheckpoint(ctx)
	if err != nil {
		return err
	}
	p.written = from
	p.fold.cache.clear() // rows written by others meanwhile are unknown to it
	p.log.Info("projector following the event store", "after", from)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	buf := make(chan events.Envelope, maxBatch)
	subErr := make(chan error, 1)
	go func() {
		subErr <- p.src.Subscribe(ctx, from, func(ctx context.Context, env events.Envelope) error {
			select {
			case buf <- env:
				return nil
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		})
	}()

	batch := make([]events.Envelope, 0, maxBatch)
	for {
		select {
		case env := <-buf:
			batch = append(batch[:0], env)
		fill:
			for len(batch) < maxBatch {
				select {
				case env := <-buf:
					batch = append(batch, env)
				default:
					break fill
				}
			}
			if err := p.apply(ctx, batch); err != nil {
				cancel(err)
				<-subErr
				p.log.Error("projector stopped", "err", err)
				return err
			}
		case err := <-subErr:
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if err == nil {
				err = errors.New("projections: subscription ended")
			}
			return fmt.Errorf("projections: subscription: %w", err)
		case <-ctx.Done():
			<-subErr
			return context.Cause(ctx)
		}
	}
}

// apply projects a batch in one transaction with the checkpoint. Envelopes
// at or below the checkpoint are skipped (idempotent redelivery). On failure
// the cache is dropped: Evolve updates states in place, so cached states may
// be ahead of what is committed.
//
// A replay may have switched generations since the last commit (the write
// transaction finds out): the statements are then prepared again for the
// new tables, the checkpoint re-read (a whole replay may have gone further
// than this projector), the cache dropped, and the batch applied again.
func (p *Projector) apply(ctx context.Context, batch []events.Envelope) (err error) {
	defer func() {
		if err != nil {
			p.fold.cache.clear()
		}
	}()
	for {
		err := p.applyOnce(ctx, batch)
		var moved checkpointMoved
		switch {
		case errors.Is(err, errGenerationChanged):
			p.fold.cache.clear()
			pos, err := p.rm.switchGeneration(ctx)
			if err != nil {
				return err
			}
			p.written = pos
			p.log.Info("projector writing to the tables a replay switched to", "generations", p.rm.generations().String())
		case errors.As(err, &moved):
			if moved.to < p.written {
				return fmt.Errorf("projections: the read model's checkpoint went back from %d to %d (restored?): restart to project from there", p.written, moved.to)
			}
			// Another projector committed past us: our cached rows are
			// stale, and the events up to its checkpoint are done.
			p.fold.cache.clear()
			p.written = moved.to
			p.rm.advance(moved.to)
			p.log.Info("projector found the checkpoint moved by another projector", "to", moved.to)
		default:
			return err
		}
	}
}

// checkpointMoved: the committed checkpoint is not where this projector
// left it.
type checkpointMoved struct{ to int64 }

func (e checkpointMoved) Error() string {
	return fmt.Sprintf("projections: checkpoint moved to %d by another writer", e.to)
}

func (p *Projector) applyOnce(ctx context.Context, batch []events.Envelope) error {
	from := p.written
	f, err := p.fold.foldBatch(ctx, batch, from)
	if err != nil {
		return err
	}
	if f.last == from {
		return f.stop
	}
	w, err := p.rm.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer w.rollback()
	if stored, err := w.lockCheckpoint(); err != nil {
		return err
	} else if stored != from {
		return checkpointMoved{to: stored}
	}
	sums, err := p.fold.write(w, f.graphs)
	if err != nil {
		return err
	}
	if err := w.setCheckpoint(f.last); err != nil {
		return err
	}
	if err := w.commit(); err != nil {
		return err
	}
	p.fold.committed(f.graphs, sums)
	p.written = f.last
	p.rm.advance(f.last)
	p.commits.Add(1)
	return f.stop
}
