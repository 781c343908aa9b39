package projections

import (
	"context"
	"fmt"
	"strings"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
)

// streamReader reloads a stream the cache lost.
type streamReader interface {
	ReadStream(ctx context.Context, stream string, afterVersion int64) ([]events.Envelope, error)
}

// folder folds envelopes into load balancer graphs (with loadbalancer.Evolve,
// the only place statuses are derived) and writes the graphs they touched:
// the live projector and Replay share it.
type folder struct {
	src   streamReader
	reg   *events.Registry
	cache *graphCache
	want  projectionSet // what is rendered and written
}

// folded is the outcome of folding a batch.
type folded struct {
	graphs []*graph // touched, in first-touch order
	last   int64    // position of the last envelope folded
	// stop: an undecodable envelope; what precedes it is folded, it and
	// what follows are not.
	stop error
}

// decoded is an envelope with its payload decoded (ev nil: not a load
// balancer's stream, or err).
type decoded struct {
	env events.Envelope
	ev  events.Event
	err error
}

// decode decodes the payloads of the load balancer events of batch above
// position from; a replay does it on its reading goroutine.
func decode(reg *events.Registry, batch []events.Envelope, from int64) []decoded {
	out := make([]decoded, 0, len(batch))
	for _, env := range batch {
		if env.Position <= from {
			continue
		}
		d := decoded{env: env}
		if strings.HasPrefix(env.Stream, events.StreamPrefix) {
			if d.ev, d.err = reg.Decode(env); d.err != nil {
				d.err = fmt.Errorf("projections: %s v%d (position %d): %w", env.Stream, env.Version, env.Position, d.err)
			}
		}
		out = append(out, d)
		if d.err != nil {
			break // what follows is not folded
		}
	}
	return out
}

// foldBatch folds the envelopes of batch with a position above from.
// Envelopes of streams that are not load balancers' are passed over.
func (f *folder) foldBatch(ctx context.Context, batch []events.Envelope, from int64) (folded, error) {
	return f.foldDecoded(ctx, decode(f.reg, batch, from), from)
}

// foldDecoded folds decoded envelopes with a position above from.
func (f *folder) foldDecoded(ctx context.Context, batch []decoded, from int64) (folded, error) {
	out := folded{last: from}
	touched := map[string]int{} // stream -> index in out.graphs
	for _, d := range batch {
		env := d.env
		if env.Position <= out.last {
			continue
		}
		if d.err != nil {
			out.stop = d.err
			break
		}
		if d.ev == nil {
			out.last = env.Position
			continue
		}
		g, err := f.fold(ctx, env, d.ev)
		if err != nil {
			return out, err
		}
		out.last = env.Position
		// The latest graph of the stream: a cache miss within the batch
		// reloads it into a new one.
		if i, ok := touched[env.Stream]; ok {
			out.graphs[i] = g
		} else {
			touched[env.Stream] = len(out.graphs)
			out.graphs = append(out.graphs, g)
		}
	}
	return out, nil
}

// write renders the touched graphs into w and returns the sums of their
// rows, to be kept by committed once w commits.
func (f *folder) write(w *writeTx, graphs []*graph) ([]map[rowKey]uint64, error) {
	sums := make([]map[rowKey]uint64, len(graphs))
	for i, g := range graphs {
		rows, err := renderGraph(g, f.want)
		if err != nil {
			return nil, fmt.Errorf("projections: %s: %w", g.stream, err)
		}
		if sums[i], err = w.writeGraph(strings.TrimPrefix(g.stream, events.StreamPrefix), g.written, rows); err != nil {
			return nil, err
		}
	}
	// Graphs are distinct here, not across calls (a replay folds pages in
	// one transaction): what was batched goes now.
	if err := w.flush(); err != nil {
		return nil, err
	}
	return sums, nil
}

// committed records what write wrote, once committed.
func (f *folder) committed(graphs []*graph, sums []map[rowKey]uint64) {
	for i, g := range graphs {
		g.written = sums[i]
		if g.state.Gone {
			f.cache.remove(g.stream) // nothing more will happen to it
		}
	}
}

// fold returns the graph of env's stream with env applied: from the cache
// when it holds the version just before env, else reloaded from the store
// (folding only the versions before env, which later envelopes will bring).
func (f *folder) fold(ctx context.Context, env events.Envelope, ev events.Event) (*graph, error) {
	var err error
	g, ok := f.cache.get(env.Stream)
	if !ok || g.version != env.Version-1 {
		if g, err = f.load(ctx, env.Stream, env.Version); err != nil {
			return nil, err
		}
		f.cache.put(g)
	}
	if err := evolve(g, env, ev); err != nil {
		f.cache.remove(env.Stream)
		return nil, err
	}
	return g, nil
}

// load folds stream up to (not including) version before.
func (f *folder) load(ctx context.Context, stream string, before int64) (*graph, error) {
	if before <= 1 {
		// A new stream: nothing to read, and (rows and checkpoint being
		// committed together) nothing of it is stored yet.
		return &graph{stream: stream, state: loadbalancer.NewState(), written: map[rowKey]uint64{}}, nil
	}
	envs, err := f.src.ReadStream(ctx, stream, 0)
	if err != nil {
		return nil, fmt.Errorf("projections: read %s: %w", stream, err)
	}
	g := &graph{stream: stream, state: loadbalancer.NewState()}
	for _, env := range envs {
		if env.Version >= before {
			break
		}
		ev, err := f.reg.Decode(env)
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
