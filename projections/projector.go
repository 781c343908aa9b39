package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
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
	rm    *ReadModel
	src   Source
	reg   *events.Registry
	log   *slog.Logger
	cache *graphCache

	commits atomic.Int64 // transactions committed (observed by tests)
}

// NewProjector returns a projector writing into rm. Run it once at a time.
func NewProjector(rm *ReadModel, src Source, reg *events.Registry, log *slog.Logger) *Projector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Projector{rm: rm, src: src, reg: reg, log: log, cache: newGraphCache(defaultCacheSize)}
}

// Run follows the store from the stored checkpoint until ctx ends (it then
// returns ctx.Err()) or an event cannot be projected: an undecodable or
// unknown event stops it with an error rather than being skipped, since a
// skipped fact would leave the read model wrong forever.
//
// Envelopes are handed from the subscription to this loop through a buffer:
// whatever is already buffered (up to maxBatch) is committed in one
// transaction, so catch-up is fast while a lone event commits at once.
func (p *Projector) Run(ctx context.Context) error {
	from, err := p.rm.Checkpoint(ctx)
	if err != nil {
		return err
	}
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
func (p *Projector) apply(ctx context.Context, batch []events.Envelope) (err error) {
	from, err := p.rm.Checkpoint(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			p.cache.clear()
		}
	}()

	last := from
	var order []string
	touched := map[string]*graph{}
	var stop error // an undecodable envelope: commit what precedes it, then stop
	for _, env := range batch {
		if env.Position <= last {
			continue
		}
		if !strings.HasPrefix(env.Stream, events.StreamPrefix) {
			last = env.Position
			continue
		}
		ev, err := p.reg.Decode(env)
		if err != nil {
			stop = fmt.Errorf("projections: %s v%d (position %d): %w", env.Stream, env.Version, env.Position, err)
			break
		}
		g, err := p.fold(ctx, env, ev)
		if err != nil {
			return err
		}
		last = env.Position
		if _, ok := touched[env.Stream]; !ok {
			order = append(order, env.Stream)
		}
		touched[env.Stream] = g
	}
	if last == from {
		return stop
	}

	w, err := p.rm.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer w.rollback()
	next := make(map[string]map[rowKey]row, len(order))
	for _, stream := range order {
		g := touched[stream]
		rows, err := renderGraph(g)
		if err != nil {
			return fmt.Errorf("projections: %s: %w", stream, err)
		}
		if err := w.writeGraph(strings.TrimPrefix(stream, events.StreamPrefix), g.written, rows); err != nil {
			return err
		}
		next[stream] = rows
	}
	if err := w.setCheckpoint(last); err != nil {
		return err
	}
	if err := w.commit(); err != nil {
		return err
	}
	for _, stream := range order {
		g := touched[stream]
		g.written = next[stream]
		if g.state.Gone {
			p.cache.remove(stream) // nothing more will happen to it
		}
	}
	p.rm.advance(last)
	p.commits.Add(1)
	return stop
}

// fold returns the graph of env's stream with env applied: from the cache
// when it holds the version just before env, else reloaded from the store
// (folding only the versions before env, which later envelopes will bring).
func (p *Projector) fold(ctx context.Context, env events.Envelope, ev events.Event) (*graph, error) {
	var err error
	g, ok := p.cache.get(env.Stream)
	if !ok || g.version != env.Version-1 {
		if g, err = p.load(ctx, env.Stream, env.Version); err != nil {
			return nil, err
		}
		p.cache.put(g)
	}
	if err := evolve(g, env, ev); err != nil {
		p.cache.remove(env.Stream)
		return nil, err
	}
	return g, nil
}

// load folds stream up to (not including) version before.
func (p *Projector) load(ctx context.Context, stream string, before int64) (*graph, error) {
	if before <= 1 {
		// A new stream: nothing to read, and (rows and checkpoint being
		// committed together) nothing of it is stored yet.
		return &graph{stream: stream, state: loadbalancer.NewState(), written: map[rowKey]row{}}, nil
	}
	envs, err := p.src.ReadStream(ctx, stream, 0)
	if err != nil {
		return nil, fmt.Errorf("projections: read %s: %w", stream, err)
	}
	g := &graph{stream: stream, state: loadbalancer.NewState()}
	for _, env := range envs {
		if env.Version >= before {
			break
		}
		ev, err := p.reg.Decode(env)
		if err != nil {
			return nil, fmt.Errorf("projections: %s v%d (position %d): %w", stream, env.Version, env.Position, err)
		}
		if err := evolve(g, env, ev); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// evolve applies one event, turning a panic of Evolve (a bug) into an error
// so the projector stops cleanly instead of crashing the process.
func evolve(g *graph, env events.Envelope, ev events.Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("projections: evolve %s v%d (%s): panic: %v", env.Stream, env.Version, env.Type, r)
		}
	}()
	opBefore, oldBefore := g.state.Operation, g.state.FailoverOld
	g.state = loadbalancer.Evolve(g.state, env.Version, env.Time, ev)
	g.version = env.Version
	if g.amphorae == nil {
		g.amphorae = map[string]AmphoraTimes{}
	}
	trackAmphorae(g.amphorae, g.state, env.Time, opBefore, oldBefore)
	return nil
}
