package projections

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/octavia-es/octavia-es/events"
)

// ErrReplayRunning: another replay of the same read model holds its lock.
var ErrReplayRunning = errors.New("projections: another replay of this read model is running")

// ReplaySource is what Replay reads: eventstore.Store satisfies it.
type ReplaySource interface {
	ReadAll(ctx context.Context, afterPosition int64, limit int) ([]events.Envelope, error)
	ReadStream(ctx context.Context, stream string, afterVersion int64) ([]events.Envelope, error)
	Head(ctx context.Context) (int64, error)
}

// ReplayPhase is a step of a replay.
type ReplayPhase string

const (
	// ReplayBuild folds the store from position 0 into the new tables, up
	// to the target seen when the replay started.
	ReplayBuild ReplayPhase = "build"
	// ReplayIndex creates the new tables' secondary indexes.
	ReplayIndex ReplayPhase = "index"
	// ReplayCatchUp folds what was appended (or projected) meanwhile.
	ReplayCatchUp ReplayPhase = "catch-up"
	// ReplaySwitch points the views at the new tables, in one transaction
	// with the last events and the checkpoint.
	ReplaySwitch ReplayPhase = "switch"
	// ReplayDone: switched, and the old tables dropped.
	ReplayDone ReplayPhase = "done"
)

// ReplayProgress is reported after every transaction of a replay.
type ReplayProgress struct {
	Phase    ReplayPhase
	Position int64 // the last event folded
	Target   int64 // where the current phase ends
	Events   int64 // events read so far
	Elapsed  time.Duration
}

// ReplayOptions tune Replay. Zero values take the defaults.
type ReplayOptions struct {
	// Projections to rebuild (Projections() names them); none = every one.
	Projections []string
	// Progress, when set, is called after every transaction, from the
	// replaying goroutine.
	Progress func(ReplayProgress)
	Log      *slog.Logger
	// BatchEvents is how many events are folded before the graphs they
	// touched are written (default 32768): the larger, the fewer times a
	// graph met again is rewritten. Writes are committed 512 graphs per
	// transaction (a running server's projector waits for the write lock
	// while one commits).
	BatchEvents int
	// CacheGraphs is how many load balancer graphs stay folded in memory
	// (default 65536); a graph evicted and met again is reloaded from its
	// stream.
	CacheGraphs int
}

// ReplayResult describes a finished replay.
type ReplayResult struct {
	Projections []string
	// Generations maps each rebuilt projection to its new generation.
	Generations map[string]int64
	// Position is the read model's checkpoint after the switch.
	Position int64
	Events   int64 // events read from the store
	Elapsed  time.Duration
}

const (
	// readPage is how many events one ReadAll of a replay asks for.
	readPage           = 2048
	defaultReplayBatch = 32768
	defaultReplayCache = 65536
	// switchDistance: the catch-up ends when at most this many events are
	// left; the switch transaction folds them while it holds the write
	// lock, which a running server's projector waits for.
	switchDistance = 2048
)

// Replay rebuilds projections of the read model at path from src into new
// tables, then switches the views to them atomically and drops the old
// tables. It works on a stopped server's files and beside a running server
// alike (docs/replay.md): the API reads the old tables until the switch
// commits, and the server's projector follows the switch at its next
// write. Every projection rebuilt ends at the read model's checkpoint (a
// whole rebuild may leave it further, at the store's head). Statistics are
// not derived from events and are kept as they are.
//
// A failed or cancelled replay drops what it built and leaves the read
// model as it was.
func Replay(ctx context.Context, path string, src ReplaySource, reg *events.Registry, opt ReplayOptions) (ReplayResult, error) {
	want, err := parseProjections(opt.Projections)
	if err != nil {
		return ReplayResult{}, err
	}
	opt.setDefaults()
	if path == "" {
		return ReplayResult{}, errors.New("projections: empty path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return ReplayResult{}, fmt.Errorf("projections: create directory: %w", err)
	}
	unlock, err := lockReplay(path + ".replay.lock")
	if err != nil {
		return ReplayResult{}, err
	}
	defer unlock()

	sqldb, err := openDB(path, "&_txlock=immediate&_pragma=cache_size(-65536)")
	if err != nil {
		return ReplayResult{}, err
	}
	sqldb.SetMaxOpenConns(1)
	sqldb.SetMaxIdleConns(1)
	sqldb.SetConnMaxLifetime(0)
	sqldb.SetConnMaxIdleTime(0)
	defer sqldb.Close()
	return replayOn(ctx, db{sqldb, sqliteDialect}, src, reg, want, opt)
}

// setDefaults fills the options left zero.
func (opt *ReplayOptions) setDefaults() {
	if opt.BatchEvents <= 0 {
		opt.BatchEvents = defaultReplayBatch
	}
	if opt.CacheGraphs <= 0 {
		opt.CacheGraphs = defaultReplayCache
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
}

// replayOn replays into the read model of c, whose replay lock the caller
// holds.
func replayOn(ctx context.Context, c db, src ReplaySource, reg *events.Registry, want projectionSet, opt ReplayOptions) (ReplayResult, error) {
	if err := migrate(ctx, c); err != nil {
		return ReplayResult{}, err
	}
	r := &replay{db: c, src: src, want: want, opt: opt, start: time.Now(), log: opt.Log,
		sink: sink{db: c, seed: maphash.MakeSeed()}}
	r.fold = &folder{src: src, reg: reg, cache: newGraphCache(opt.CacheGraphs), want: want}
	defer func() { _ = r.sink.stmts.close() }()
	res, err := r.run(ctx)
	if err != nil && r.created {
		// What was built is of no use; the read model is as it was.
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = r.sink.stmts.close()
		if derr := r.dropTables(cleanup, r.next); derr != nil {
			r.log.Warn("replay: drop the tables of the failed replay", "err", derr)
		}
	}
	return res, err
}

// replay is one run of Replay.
type replay struct {
	db    db
	src   ReplaySource
	want  projectionSet
	opt   ReplayOptions
	log   *slog.Logger
	start time.Time

	sink sink
	fold *folder

	cur, next generations // next: the generations built (0 = not rebuilt)
	created   bool        // the next generation's tables exist
	pos       int64       // last event folded into the new tables
	events    int64
}

func (r *replay) run(ctx context.Context) (ReplayResult, error) {
	if err := r.prepare(ctx); err != nil {
		return ReplayResult{}, err
	}
	target, err := r.bound(ctx)
	if err != nil {
		return ReplayResult{}, err
	}
	r.log.Info("replay: rebuilding", "projections", r.want.names(), "generations", r.next.String(), "target", target)
	if err := r.foldTo(ctx, ReplayBuild, target); err != nil {
		return ReplayResult{}, err
	}
	if err := r.index(ctx); err != nil {
		return ReplayResult{}, err
	}
	for {
		target, err := r.bound(ctx)
		if err != nil {
			return ReplayResult{}, err
		}
		if target-r.pos <= switchDistance {
			break
		}
		if err := r.foldTo(ctx, ReplayCatchUp, target); err != nil {
			return ReplayResult{}, err
		}
	}
	position, err := r.switchOver(ctx)
	if err != nil {
		return ReplayResult{}, err
	}
	r.created = false // switched: the new tables are the read model now
	if err := r.dropTables(ctx, r.cur); err != nil {
		// The switch stands; the next replay drops what is left.
		r.log.Warn("replay: drop the old tables", "err", err)
	}
	res := ReplayResult{Projections: r.want.names(), Generations: map[string]int64{}, Position: position,
		Events: r.events, Elapsed: time.Since(r.start)}
	for i, n := range projectionNames {
		if r.want.hasIndex(i) {
			res.Generations[n] = r.next[i]
		}
	}
	r.report(ReplayDone, position)
	r.log.Info("replay: done", "position", position, "events", r.events, "elapsed", res.Elapsed)
	return res, nil
}

// bound is where the new tables must get to: the read model's checkpoint,
// or for a whole rebuild the store's head when that is further.
func (r *replay) bound(ctx context.Context) (int64, error) {
	live, err := readCheckpoint(ctx, r.db)
	if err != nil {
		return 0, err
	}
	if r.want != allProjections {
		return live, nil
	}
	head, err := r.src.Head(ctx)
	if err != nil {
		return 0, fmt.Errorf("projections: replay: read the store's head: %w", err)
	}
	return max(live, head), nil
}

var generationName = regexp.MustCompile(`^([a-z_]+)_g([0-9]+)$`)

// prepare drops what an interrupted replay left, creates the next
// generation's tables (without their secondary indexes) and prepares the
// statements that write them.
func (r *replay) prepare(ctx context.Context) error {
	var err error
	if r.cur, err = readGenerations(ctx, r.db); err != nil {
		return err
	}
	leftovers, err := r.leftovers(ctx)
	if err != nil {
		return err
	}
	if len(leftovers) > 0 {
		r.log.Info("replay: dropping tables an interrupted replay left", "tables", leftovers)
		for _, name := range leftovers {
			if _, err := r.db.ExecContext(ctx, `DROP TABLE IF EXISTS "`+name+`"`); err != nil {
				return fmt.Errorf("projections: replay: drop %s: %w", name, err)
			}
		}
	}
	var to targets
	var stmts []string
	for i := range projectionNames {
		if !r.want.hasIndex(i) {
			continue
		}
		r.next[i] = r.cur[i] + 1
		for _, t := range tablesOf(i) {
			to[t] = physical(t, r.next[i])
			stmts = append(stmts, r.db.d.createTable(t, r.next[i]))
		}
	}
	r.created = true
	if err := r.inTx(ctx, stmts); err != nil {
		return fmt.Errorf("projections: replay: create tables: %w", err)
	}
	return r.sink.stmts.prepare(ctx, r.db, to)
}

// leftovers lists the tables of the replayed projections that are in no
// current generation.
func (r *replay) leftovers(ctx context.Context) ([]string, error) {
	rows, err := r.db.QueryContext(ctx, r.db.d.listObjects())
	if err != nil {
		return nil, fmt.Errorf("projections: replay: list tables: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var typ, name string
		if err := rows.Scan(&typ, &name); err != nil {
			return nil, fmt.Errorf("projections: replay: list tables: %w", err)
		}
		m := generationName.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		gen, _ := strconv.ParseInt(m[2], 10, 64)
		for t := table(0); t <= lastTable; t++ {
			i := projectionOf(t)
			if t.String() == m[1] && r.want.hasIndex(i) && gen != r.cur[i] {
				out = append(out, name)
			}
		}
	}
	return out, rows.Err()
}

// foldTo folds the store's events up to position target into the new
// tables. A reading goroutine reads and decodes the next page while one is
// folded. The graphs a window of BatchEvents events touched are written
// once, graphsPerTx per transaction: a graph met several times in the
// window is rendered and written once, and a running server's projector
// never waits long for the write lock. (The new tables are nobody's until
// the switch: how their writes are grouped does not matter to readers.)
func (r *replay) foldTo(ctx context.Context, phase ReplayPhase, target int64) error {
	if r.pos >= target {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan []decoded, 2)
	readErr := make(chan error, 1)
	go func() {
		defer close(pages)
		readErr <- r.read(ctx, r.pos, target, pages)
	}()
	window := map[string]*graph{}
	var order []string
	inWindow := 0
	for page := range pages {
		f, err := r.fold.foldDecoded(ctx, page, r.pos)
		if err == nil {
			err = f.stop
		}
		if err != nil {
			r.fold.cache.clear()
			return err
		}
		for _, g := range f.graphs {
			if _, ok := window[g.stream]; !ok {
				order = append(order, g.stream)
			}
			window[g.stream] = g // the latest: a cache miss reloads a graph into a new one
		}
		r.pos = f.last
		r.events += int64(len(page))
		if inWindow += len(page); inWindow >= r.opt.BatchEvents {
			if err := r.flush(ctx, order, window); err != nil {
				return err
			}
			window, order, inWindow = map[string]*graph{}, order[:0], 0
		}
		r.report(phase, target)
	}
	if err := r.flush(ctx, order, window); err != nil {
		return err
	}
	if err := <-readErr; err != nil {
		return err
	}
	if r.pos < target {
		return fmt.Errorf("projections: replay: the store ends at position %d, before %d (the read model's checkpoint is ahead of its event store)", r.pos, target)
	}
	return nil
}

// graphsPerTx bounds the graphs one transaction of a replay writes.
const graphsPerTx = 512

// flush writes the graphs of a window.
func (r *replay) flush(ctx context.Context, order []string, window map[string]*graph) error {
	for len(order) > 0 {
		n := min(len(order), graphsPerTx)
		chunk := make([]*graph, n)
		for i, stream := range order[:n] {
			chunk[i] = window[stream]
		}
		order = order[n:]
		w, err := r.sink.begin(ctx)
		if err != nil {
			return err
		}
		sums, err := r.fold.write(w, chunk)
		if err == nil {
			err = w.commit()
		}
		if err != nil {
			w.rollback()
			r.fold.cache.clear()
			return err
		}
		r.fold.committed(chunk, sums)
	}
	return nil
}

// read sends the pages of events after from up to target, decoded.
func (r *replay) read(ctx context.Context, from, target int64, pages chan<- []decoded) error {
	for from < target {
		page, err := r.src.ReadAll(ctx, from, int(min(int64(readPage), target-from)))
		if err != nil {
			return fmt.Errorf("projections: replay: read after %d: %w", from, err)
		}
		for len(page) > 0 && page[len(page)-1].Position > target {
			page = page[:len(page)-1]
		}
		if len(page) == 0 {
			return nil
		}
		select {
		case pages <- decode(r.fold.reg, page, from):
		case <-ctx.Done():
			return ctx.Err()
		}
		from = page[len(page)-1].Position
	}
	return nil
}

// foldPage folds and writes one page in w.
func (r *replay) foldPage(ctx context.Context, w *writeTx, page []events.Envelope) error {
	f, err := r.fold.foldBatch(ctx, page, r.pos)
	if err == nil {
		err = f.stop
	}
	if err != nil {
		r.fold.cache.clear()
		return err
	}
	sums, err := r.fold.write(w, f.graphs)
	if err != nil {
		r.fold.cache.clear()
		return err
	}
	r.fold.committed(f.graphs, sums)
	r.pos = f.last
	r.events += int64(len(page))
	return nil
}

// index creates the secondary indexes of the new tables, one per
// transaction (each holds the write lock only for its own build).
func (r *replay) index(ctx context.Context) error {
	for i := range projectionNames {
		if !r.want.hasIndex(i) {
			continue
		}
		for _, t := range tablesOf(i) {
			stmts := indexStatements(t, r.next[i])
			if r.db.d.numbered {
				// The planner's statistics of the new tables: without them
				// (autovacuum off, or not round yet) it may pick a scan.
				stmts = append(stmts, `ANALYZE `+physical(t, r.next[i]))
			}
			for _, s := range stmts {
				if err := r.inTx(ctx, []string{s}); err != nil {
					return fmt.Errorf("projections: replay: %w", err)
				}
			}
		}
	}
	r.report(ReplayIndex, r.pos)
	return nil
}

// switchOver folds the last events up to the read model's checkpoint and
// points the views at the new tables, in one transaction: the write lock
// keeps a running projector from committing in between, so the new tables
// reflect exactly the checkpoint it then continues from. A whole rebuild
// that got further than the checkpoint moves the checkpoint there.
func (r *replay) switchOver(ctx context.Context) (int64, error) {
	w, err := r.sink.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer w.rollback()
	gens, err := lockGenerations(ctx, w.tx)
	if err != nil {
		return 0, err
	}
	if gens != r.cur {
		return 0, fmt.Errorf("projections: replay: generations changed to %s while replaying from %s", gens, r.cur)
	}
	live, err := w.lockCheckpoint()
	if err != nil {
		return 0, err
	}
	for r.pos < live {
		page, err := r.src.ReadAll(ctx, r.pos, int(min(int64(readPage), live-r.pos)))
		if err != nil {
			return 0, fmt.Errorf("projections: replay: read after %d: %w", r.pos, err)
		}
		for len(page) > 0 && page[len(page)-1].Position > live {
			page = page[:len(page)-1]
		}
		if len(page) == 0 {
			return 0, fmt.Errorf("projections: replay: the store ends at position %d, before the read model's checkpoint %d", r.pos, live)
		}
		if err := r.foldPage(ctx, w, page); err != nil {
			return 0, err
		}
	}
	position := live
	if r.pos > live {
		if r.want != allProjections {
			return 0, fmt.Errorf("projections: replay: folded up to %d, past the checkpoint %d", r.pos, live)
		}
		position = r.pos
		if err := w.setCheckpoint(position); err != nil {
			return 0, fmt.Errorf("projections: replay: %w", err)
		}
	}
	var stmts []string
	for i, name := range projectionNames {
		if !r.want.hasIndex(i) {
			continue
		}
		if _, err := w.tx.ExecContext(ctx, `UPDATE generations SET generation = ? WHERE projection = ?`, r.next[i], name); err != nil {
			return 0, fmt.Errorf("projections: replay: switch %s: %w", name, err)
		}
		for _, t := range tablesOf(i) {
			stmts = append(stmts, viewStatements(t, r.next[i])...)
		}
	}
	if err := execAll(ctx, w.tx, stmts); err != nil {
		return 0, fmt.Errorf("projections: replay: switch views: %w", err)
	}
	if err := w.commit(); err != nil {
		return 0, err
	}
	r.report(ReplaySwitch, position)
	return position, nil
}

// dropTables drops the tables of the replayed projections in generations
// gens, one transaction each.
func (r *replay) dropTables(ctx context.Context, gens generations) error {
	var errs []error
	for i := range projectionNames {
		if !r.want.hasIndex(i) || gens[i] == 0 {
			continue
		}
		for _, t := range tablesOf(i) {
			if err := r.inTx(ctx, []string{`DROP TABLE IF EXISTS ` + physical(t, gens[i])}); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (r *replay) inTx(ctx context.Context, stmts []string) error {
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if err := execAll(ctx, tx, stmts); err != nil {
		return err
	}
	return tx.Commit()
}

func (r *replay) report(phase ReplayPhase, target int64) {
	if r.opt.Progress != nil {
		r.opt.Progress(ReplayProgress{Phase: phase, Position: r.pos, Target: target, Events: r.events, Elapsed: time.Since(r.start)})
	}
}
