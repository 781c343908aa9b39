package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Group limits: enough to amortise a commit over many appends, small enough
// that one group's statement stays short.
const (
	defaultGroupAppends = 256
	groupEvents         = 4096
)

// errClosed: Append on a closed store.
var errClosed = errors.New("eventstore/postgres: store closed")

// writer funnels the process's appends through one goroutine, which sends
// everything queued while the previous group was committing as one call of
// append_group: concurrent appenders share one transaction and one WAL
// flush instead of queueing on the positions row lock one commit at a time.
// An append that finds the writer idle (nothing queued, no group in
// flight, the last group it sent a group of one) is sent by its caller as a
// group of one, which spares a lone writer two goroutine hand-offs per
// append; while appends queue together, all of them go through the writer,
// so that they keep sharing commits.
type writer struct {
	pool      *pgxpool.Pool
	sql       string
	channel   string
	maxAppend int
	onWrite   func()                                                      // after a group wrote something
	send      func(context.Context, []*appendReq) ([]appendResult, error) // call; tests stub it

	reqs    chan *appendReq
	sending sync.Mutex      // held while a group is in flight
	queued  atomic.Int64    // requests handed to run and not answered yet
	grouped atomic.Bool     // run's last group held several appends (or left some)
	ctx     context.Context // cancelled by close
	cancel  context.CancelFunc
	done    chan struct{}
}

// appendReq is one Append waiting for its group.
type appendReq struct {
	ctx      context.Context
	stream   string
	expected int64
	cols     batch
	res      chan appendResult // buffered: the writer never blocks on a caller that left
	queued   bool              // counted in writer.queued
}

type appendResult struct {
	appended      bool
	current       int64 // the stream's version before the append
	firstPosition int64
	err           error
}

func newWriter(pool *pgxpool.Pool, fn, channel string, onWrite func()) *writer {
	ctx, cancel := context.WithCancel(context.Background())
	w := &writer{
		pool: pool, sql: appendSQL(fn), channel: channel, maxAppend: defaultGroupAppends, onWrite: onWrite,
		reqs: make(chan *appendReq), ctx: ctx, cancel: cancel, done: make(chan struct{}),
	}
	w.send = w.call
	go w.run()
	return w
}

// appendSQL calls the append function fn (append_group; tests swap in
// broken variants to show the conformance suite catches them).
func appendSQL(fn string) string {
	return `SELECT appended, current_version, base, written FROM ` + fn +
		`($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`
}

// submit queues r and waits for its outcome or the end of ctx. If ctx ends
// once r is in flight, the events may or may not have been written (as with
// any database call cut short).
func (w *writer) submit(ctx context.Context, r *appendReq) appendResult {
	if !w.grouped.Load() && w.queued.Load() == 0 && w.sending.TryLock() {
		defer w.sending.Unlock()
		switch {
		case w.ctx.Err() != nil:
			return appendResult{err: errClosed}
		case ctx.Err() != nil:
			return appendResult{err: ctx.Err()}
		}
		// The caller's ctx: if it ends, the statement is cancelled and
		// its outcome unknown, as when it ends while queued.
		w.write(ctx, []*appendReq{r})
		return <-r.res
	}
	r.queued = true
	w.queued.Add(1)
	select {
	case w.reqs <- r:
	case <-ctx.Done():
		w.queued.Add(-1)
		return appendResult{err: ctx.Err()}
	case <-w.ctx.Done():
		w.queued.Add(-1)
		return appendResult{err: errClosed}
	}
	select {
	case res := <-r.res:
		return res
	case <-ctx.Done():
		return appendResult{err: ctx.Err()}
	}
}

// close stops the writer (an in-flight group is cancelled) and waits for it.
func (w *writer) close() {
	w.cancel()
	<-w.done
}

func (w *writer) run() {
	defer close(w.done)
	var carry []*appendReq
	for {
		pending := carry
		if len(pending) == 0 {
			select {
			case r := <-w.reqs:
				pending = append(pending, r)
			case <-w.ctx.Done():
				return
			}
		}
		// Whatever queues while a caller's own append is in flight joins
		// this group: drain once that is done.
		w.sending.Lock()
		pending = w.drain(pending)
		var group []*appendReq
		group, carry = w.form(pending)
		w.grouped.Store(len(group) > 1 || len(carry) > 0)
		if len(group) > 0 {
			w.write(w.ctx, group)
		}
		w.sending.Unlock()
		if w.ctx.Err() != nil {
			for _, r := range carry {
				w.answer(r, appendResult{err: errClosed})
			}
			return
		}
	}
}

// drain adds every request already waiting, up to a bound.
func (w *writer) drain(pending []*appendReq) []*appendReq {
	for len(pending) < 2*w.maxAppend {
		select {
		case r := <-w.reqs:
			pending = append(pending, r)
		default:
			return pending
		}
	}
	return pending
}

// form picks the group to send from pending, in order: at most one append
// per stream (a later one on the same stream waits for the next group, so
// its expected version is checked against the first's result) and within
// the limits. Requests whose caller left are dropped.
func (w *writer) form(pending []*appendReq) (group, rest []*appendReq) {
	streams := make(map[string]bool, len(pending))
	evs := 0
	for _, r := range pending {
		switch {
		case r.ctx.Err() != nil:
			w.answer(r, appendResult{err: r.ctx.Err()})
		case streams[r.stream] || len(group) == w.maxAppend || (len(group) > 0 && evs+len(r.cols.ids) > groupEvents):
			rest = append(rest, r)
		default:
			streams[r.stream] = true
			evs += len(r.cols.ids)
			group = append(group, r)
		}
	}
	return group, rest
}

// write sends the group and answers its requests. When the statement fails
// on the server, nothing of the group was written: each append is retried
// alone, so the error reaches the append that caused it only.
func (w *writer) write(ctx context.Context, group []*appendReq) {
	results, err := w.send(ctx, group)
	if err != nil {
		var pgErr *pgconn.PgError
		if len(group) > 1 && errors.As(err, &pgErr) {
			for _, r := range group {
				w.write(ctx, []*appendReq{r})
			}
			return
		}
		for _, r := range group {
			w.answer(r, appendResult{err: err})
		}
		return
	}
	wrote := false
	for i, r := range group {
		w.answer(r, results[i])
		wrote = wrote || results[i].appended
	}
	if wrote {
		w.onWrite()
	}
}

// answer hands r its outcome.
func (w *writer) answer(r *appendReq, res appendResult) {
	r.res <- res
	if r.queued {
		w.queued.Add(-1)
	}
}

// call runs append_group once for the group.
func (w *writer) call(ctx context.Context, group []*appendReq) ([]appendResult, error) {
	n := 0
	for _, r := range group {
		n += len(r.cols.ids)
	}
	var (
		streams  = make([]string, len(group))
		expected = make([]int64, len(group))
		appendOf = make([]int32, 0, n)
		all      = group[0].cols // a group of one (a lone writer's) is sent as staged
	)
	if len(group) > 1 {
		all = newBatch(0, n)
	}
	for i, r := range group {
		streams[i], expected[i] = r.stream, r.expected
		for range r.cols.ids {
			appendOf = append(appendOf, int32(i+1))
		}
		if len(group) > 1 {
			all.add(r.cols)
		}
	}
	var (
		appended      []bool
		current       []int64
		base, written int64
	)
	err := w.pool.QueryRow(ctx, w.sql, w.channel, streams, expected, appendOf,
		all.ids, all.types, all.schemaVersions, all.times, all.actors, all.actorOf, all.correlationIDs, all.causationIDs, all.data,
	).Scan(&appended, &current, &base, &written)
	if err != nil {
		return nil, err
	}
	if len(appended) != len(group) || len(current) != len(group) {
		return nil, fmt.Errorf("append_group returned %d outcomes for %d appends", len(appended), len(group))
	}
	// The accepted appends' events took base+1, base+2, … in group order.
	out := make([]appendResult, len(group))
	next := base + 1
	for i, r := range group {
		out[i] = appendResult{appended: appended[i], current: current[i]}
		if appended[i] {
			out[i].firstPosition = next
			next += int64(len(r.cols.ids))
		}
	}
	if next-1-base != written {
		// Committed, but not as this process counted: a bug on one side.
		return nil, fmt.Errorf("append_group wrote %d events, the group's accepted appends hold %d", written, next-1-base)
	}
	return out, nil
}
