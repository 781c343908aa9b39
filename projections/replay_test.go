package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/adapters/eventstore/sqlite"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/projections/history/historytest"
)

// projectedViews are the views every projected table is read through.
func projectedViews() []string {
	var out []string
	for t := table(0); t <= lastTable; t++ {
		out = append(out, t.String())
	}
	return out
}

// dump reads every row of every projected table of the read model file at
// path (read-only), as dumpRows.
func dump(t *testing.T, path string) map[string][]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return dumpRows(t, db)
}

// dumpRows reads every row of every projected view, every column, plus the
// checkpoint, engine-neutral: table -> rows rendered as "column=value"
// lists, in primary key order. docb (PostgreSQL's parsed copy of doc) is
// left out.
func dumpRows(t *testing.T, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, view := range append(projectedViews(), "checkpoint") {
		rows, err := db.QueryContext(context.Background(), `SELECT * FROM `+view+` ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			parts := make([]string, 0, len(cols))
			for i, v := range vals {
				if cols[i] == "docb" {
					continue
				}
				switch v := v.(type) {
				case nil:
					parts = append(parts, cols[i]+"=NULL")
				case []byte:
					parts = append(parts, fmt.Sprintf("%s=%q", cols[i], v))
				case string:
					parts = append(parts, fmt.Sprintf("%s=%q", cols[i], v))
				default:
					parts = append(parts, fmt.Sprintf("%s=%v", cols[i], v))
				}
			}
			out[view] = append(out[view], strings.Join(parts, " "))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return out
}

// assertSameRows compares two dumps table by table, row by row.
func assertSameRows(t *testing.T, what string, got, want map[string][]string) {
	t.Helper()
	for _, view := range append(projectedViews(), "checkpoint") {
		g, w := got[view], want[view]
		if len(g) != len(w) {
			t.Errorf("%s: %s has %d rows, want %d", what, view, len(g), len(w))
		}
		for i := range min(len(g), len(w)) {
			if g[i] != w[i] {
				t.Errorf("%s: %s row %d:\n got %s\nwant %s", what, view, i, g[i], w[i])
				break
			}
		}
	}
}

// tableNames lists the tables and views of the file at path.
func tableNames(t *testing.T, path string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

func gensOf(t *testing.T, rm *ReadModel) generations {
	t.Helper()
	g, err := readGenerations(context.Background(), rm.read)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// liveEnv is a real store, the read model of a running projector, and a
// random workload of the real aggregate writing to both.
type liveEnv struct {
	store  *sqlite.Store
	reg    *events.Registry
	cmds   *loadbalancer.Handler
	rm     *ReadModel
	dir    string
	rmPath string
}

func newLiveEnv(t *testing.T) *liveEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	e := &liveEnv{store: store, reg: events.NewRegistry(), dir: dir, rmPath: filepath.Join(dir, "readmodel.db")}
	e.cmds = loadbalancer.NewHandler(store, e.reg, nil)
	if e.rm, err = Open(ctx, e.rmPath); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.rm.Close() })
	startProjector(t, e.rm, store, nil)
	return e
}

func (e *liveEnv) workload(t *testing.T, seed uint64, lbs, steps int) {
	t.Helper()
	if err := e.run(seed, lbs, steps); err != nil {
		t.Fatal(err)
	}
}

func (e *liveEnv) run(seed uint64, lbs, steps int) error {
	_, err := historytest.Run(context.Background(), e.cmds, rand.New(rand.NewPCG(seed, 5)), historytest.Options{
		LoadBalancers: lbs, Steps: steps, Projects: []string{"p1", "p2"}, Full: true,
	})
	return err
}

// settle waits for the projector to reach the store's head.
func (e *liveEnv) settle(t *testing.T) int64 {
	t.Helper()
	head, err := e.store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, e.rm, head)
	return head
}

// fresh replays the whole store into a new read model and dumps it.
func (e *liveEnv) fresh(t *testing.T, name string, opt ReplayOptions) map[string][]string {
	t.Helper()
	path := filepath.Join(e.dir, name)
	res, err := Replay(context.Background(), path, e.store, e.reg, opt)
	if err != nil {
		t.Fatal(err)
	}
	head, _ := e.store.Head(context.Background())
	if res.Position != head {
		t.Errorf("fresh replay ends at %d, head %d", res.Position, head)
	}
	return dump(t, path)
}

// TestReplayReproducesLiveReadModel: after a random workload of creates,
// updates, deletes, saga outcomes and failures, replaying the whole store
// gives the read model the live projector built, every table, row and
// column alike: into a new file, in place while the projector runs and
// the API reads, in place while commands keep writing, and one projection
// alone.
func TestReplayReproducesLiveReadModel(t *testing.T) {
	ctx := context.Background()
	e := newLiveEnv(t)
	e.workload(t, 1, 12, 1500)
	head := e.settle(t)
	if err := e.rm.AddListenerStats(ctx, "amp-x", map[string]Stats{"listener-x": {BytesIn: 42, TotalConnections: 3}}); err != nil {
		t.Fatal(err)
	}
	live := dump(t, e.rmPath)
	for _, view := range projectedViews() {
		if len(live[view]) == 0 {
			t.Fatalf("the workload left no %s: the comparison would be weak", view)
		}
	}
	t.Logf("%d events; rows: %v", head, func() map[string]int {
		n := map[string]int{}
		for k, v := range live {
			n[k] = len(v)
		}
		return n
	}())

	t.Run("into a new file", func(t *testing.T) {
		// Small transactions and a cache of 3 graphs: evictions reload
		// streams, and graphs span transactions.
		assertSameRows(t, "new file", e.fresh(t, "fresh.db", ReplayOptions{BatchEvents: 97, CacheGraphs: 3}), live)
	})

	t.Run("in place while the API reads", func(t *testing.T) {
		want, err := e.rm.ListLoadBalancersRaw(ctx, ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		var reads atomic.Int64
		var readErr error
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				got, err := e.rm.ListLoadBalancersRaw(ctx, ListOptions{})
				if err == nil && !slices.EqualFunc(got.Items, want.Items, func(a, b json.RawMessage) bool { return string(a) == string(b) }) {
					err = fmt.Errorf("list changed during the replay: %d items, want %d", len(got.Items), len(want.Items))
				}
				if err != nil {
					readErr = err
					return
				}
				reads.Add(1)
			}
		})
		res, err := Replay(ctx, e.rmPath, e.store, e.reg, ReplayOptions{BatchEvents: 50})
		close(stop)
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if readErr != nil {
			t.Fatal(readErr)
		}
		if reads.Load() == 0 {
			t.Fatal("no read ran during the replay")
		}
		if res.Position != head || res.Events != head {
			t.Errorf("replay at %d after %d events, want %d", res.Position, res.Events, head)
		}
		assertSameRows(t, "in place", dump(t, e.rmPath), live)
		if g := gensOf(t, e.rm); g != (generations{2, 2, 2}) {
			t.Errorf("generations %v, want 2 each", g)
		}
		for _, n := range tableNames(t, e.rmPath) {
			if strings.HasSuffix(n, "_g1") {
				t.Errorf("old table %s not dropped", n)
			}
		}
		var bytesIn int64
		if err := e.rm.read.QueryRow(`SELECT bytes_in FROM stats WHERE id = 'listener-x'`).Scan(&bytesIn); err != nil || bytesIn != 42 {
			t.Errorf("stats after replay: %d, %v", bytesIn, err)
		}
		if s, err := e.rm.AmphoraStats(ctx, "amp-x"); err == nil || len(s) != 0 {
			// amp-x is no amphora of the read model: the join hides it, as before.
			t.Errorf("amphora stats of an unknown amphora: %v, %v", s, err)
		}
	})

	t.Run("in place while commands write", func(t *testing.T) {
		written := make(chan error, 1)
		go func() { written <- e.run(2, 8, 800) }()
		res, err := Replay(ctx, e.rmPath, e.store, e.reg, ReplayOptions{BatchEvents: 64})
		if werr := <-written; werr != nil {
			t.Fatal(werr)
		}
		if err != nil {
			t.Fatal(err)
		}
		newHead := e.settle(t)
		t.Logf("replayed to %d while the head went from %d to %d", res.Position, head, newHead)
		// The projector continued on the new tables: they equal a replay
		// of the whole store.
		assertSameRows(t, "after writes", dump(t, e.rmPath), e.fresh(t, "fresh2.db", ReplayOptions{}))
		if g := gensOf(t, e.rm); g != (generations{3, 3, 3}) {
			t.Errorf("generations %v, want 3 each", g)
		}
		if e.rm.generations() != (generations{3, 3, 3}) {
			t.Errorf("the projector writes generations %v", e.rm.generations())
		}
	})

	t.Run("one projection", func(t *testing.T) {
		before := dump(t, e.rmPath)
		res, err := Replay(ctx, e.rmPath, e.store, e.reg, ReplayOptions{Projections: []string{ProjectionAmphorae}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Projections, []string{ProjectionAmphorae}) || res.Generations[ProjectionAmphorae] != 4 {
			t.Errorf("result %+v", res)
		}
		if g := gensOf(t, e.rm); g != (generations{3, 4, 3}) {
			t.Errorf("generations %v, want only amphorae at 4", g)
		}
		assertSameRows(t, "amphorae only", dump(t, e.rmPath), before)
		// The projector writes the new amphorae table.
		e.workload(t, 3, 4, 200)
		e.settle(t)
		assertSameRows(t, "after amphorae only", dump(t, e.rmPath), e.fresh(t, "fresh3.db", ReplayOptions{}))
	})
}

func TestReplayProgress(t *testing.T) {
	e := newLiveEnv(t)
	e.workload(t, 4, 4, 300)
	head := e.settle(t)
	var got []ReplayProgress
	if _, err := Replay(context.Background(), e.rmPath, e.store, e.reg, ReplayOptions{
		BatchEvents: 40, Progress: func(p ReplayProgress) { got = append(got, p) },
	}); err != nil {
		t.Fatal(err)
	}
	var phases []ReplayPhase
	for i, p := range got {
		if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
			phases = append(phases, p.Phase)
		}
		if i > 0 && (p.Position < got[i-1].Position || p.Events < got[i-1].Events || p.Elapsed < got[i-1].Elapsed) {
			t.Errorf("progress went back: %+v after %+v", p, got[i-1])
		}
		if p.Phase == ReplayBuild && p.Target != head {
			t.Errorf("build target %d, want %d", p.Target, head)
		}
	}
	if want := []ReplayPhase{ReplayBuild, ReplayIndex, ReplaySwitch, ReplayDone}; !slices.Equal(phases, want) {
		t.Errorf("phases %v, want %v", phases, want)
	}
	if n := len(got); n < int(head/40) || got[n-1].Position != head {
		t.Errorf("%d reports, last %+v (head %d)", n, got[n-1], head)
	}
}

func TestReplayRefusals(t *testing.T) {
	ctx := context.Background()
	e := newLiveEnv(t)
	e.workload(t, 5, 3, 100)
	e.settle(t)
	before := dump(t, e.rmPath)

	if _, err := Replay(ctx, e.rmPath, e.store, e.reg, ReplayOptions{Projections: []string{"pools"}}); err == nil ||
		!strings.Contains(err.Error(), `unknown projection "pools"`) {
		t.Errorf("unknown projection: %v", err)
	}

	unlock, err := lockReplay(e.rmPath + ".replay.lock")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Replay(ctx, e.rmPath, e.store, e.reg, ReplayOptions{}); !errors.Is(err, ErrReplayRunning) {
		t.Errorf("second replay: %v, want ErrReplayRunning", err)
	}
	unlock()

	t.Run("cancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		_, err := Replay(cctx, e.rmPath, e.store, e.reg, ReplayOptions{BatchEvents: 10,
			Progress: func(p ReplayProgress) {
				if p.Events >= 20 {
					cancel()
				}
			}})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled replay: %v", err)
		}
		assertNothingLeft(t, e, before)
	})

	t.Run("an event that does not decode", func(t *testing.T) {
		// A store of its own: the running projector would stop at it too.
		store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "events.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		good, err := e.store.ReadAll(ctx, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		for _, env := range good {
			if _, err := store.Append(ctx, env.Stream, eventstore.ExpectAny, []events.Envelope{env}); err != nil {
				t.Fatal(err)
			}
		}
		bad := events.Envelope{Type: "loadbalancer.renamed_in_the_future", SchemaVersion: 1, Data: []byte(`{}`)}
		if _, err := store.Append(ctx, events.StreamFor("lb-bad"), eventstore.ExpectAny, []events.Envelope{bad}); err != nil {
			t.Fatal(err)
		}
		_, err = Replay(ctx, filepath.Join(e.dir, "other.db"), store, e.reg, ReplayOptions{BatchEvents: 20})
		if err == nil || !strings.Contains(err.Error(), "renamed_in_the_future") {
			t.Fatalf("replay over an unknown event: %v", err)
		}
		if names := tableNames(t, filepath.Join(e.dir, "other.db")); slices.ContainsFunc(names, func(n string) bool {
			return strings.HasSuffix(n, "_g2")
		}) {
			t.Errorf("the failed replay left %v", names)
		}
	})
}

// assertNothingLeft: the read model is as before, with no table of a
// next generation.
func assertNothingLeft(t *testing.T, e *liveEnv, before map[string][]string) {
	t.Helper()
	assertSameRows(t, "after a failed replay", dump(t, e.rmPath), before)
	if g := gensOf(t, e.rm); g != (generations{1, 1, 1}) {
		t.Errorf("generations %v", g)
	}
	for _, n := range tableNames(t, e.rmPath) {
		if strings.HasSuffix(n, "_g2") {
			t.Errorf("%s left behind", n)
		}
	}
}

// Tables an interrupted replay left (a crash between creating them and the
// switch) are dropped by the next replay.
func TestReplayDropsLeftovers(t *testing.T) {
	ctx := context.Background()
	e := newLiveEnv(t)
	e.workload(t, 6, 3, 100)
	e.settle(t)
	for _, q := range []string{createTable(tPools, 7), `INSERT INTO pools_g7 (id, project_id, loadbalancer_id, provisioning_status,
		operating_status, created_at, doc) VALUES ('x', 'p', 'lb', 'ACTIVE', 'ONLINE', 'now', '{}')`, createTable(tAmphorae, 2)} {
		if _, err := e.rm.write.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Replay(ctx, e.rmPath, e.store, e.reg, ReplayOptions{Projections: []string{ProjectionLoadBalancers},
		Log: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	names := tableNames(t, e.rmPath)
	if slices.Contains(names, "pools_g7") || !slices.Contains(names, "pools_g2") {
		t.Errorf("tables after replay: %v", names)
	}
	// Not a table of the replayed projection: left for a replay of amphorae.
	if !slices.Contains(names, "amphorae_g2") {
		t.Errorf("amphorae_g2 dropped by a replay of loadbalancers: %v", names)
	}
}

// The projector follows a switch made while it was idle: its next write
// goes to the new tables and the checkpoint the replay left.
func TestProjectorFollowsSwitch(t *testing.T) {
	ctx := context.Background()
	e := newLiveEnv(t)
	e.workload(t, 7, 3, 100)
	e.settle(t)
	if _, err := Replay(ctx, e.rmPath, e.store, e.reg, ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	e.workload(t, 8, 3, 100)
	head := e.settle(t)
	pos, err := readCheckpoint(ctx, e.rm.read)
	if err != nil || pos != head {
		t.Errorf("checkpoint %d, %v; want %d", pos, err, head)
	}
	assertSameRows(t, "after the switch", dump(t, e.rmPath), e.fresh(t, "fresh.db", ReplayOptions{}))
	// A whole replay of a store ahead of the read model moves the
	// checkpoint to the head (the read model of a stopped server).
	rmPath := filepath.Join(e.dir, "stale.db")
	stale, err := Open(ctx, rmPath)
	if err != nil {
		t.Fatal(err)
	}
	defer stale.Close()
	if _, err := Replay(ctx, rmPath, e.store, e.reg, ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	w, err := stale.beginWrite(ctx)
	if !errors.Is(err, errGenerationChanged) {
		t.Fatalf("write after a switch: %v", err)
	}
	_ = w
	if _, err := stale.switchGeneration(ctx); err != nil {
		t.Fatal(err)
	}
	if pos, _ := stale.Checkpoint(ctx); pos != head {
		t.Errorf("checkpoint after following the switch: %d, want %d", pos, head)
	}
	waitCtx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := stale.WaitFor(waitCtx, head); err != nil {
		t.Errorf("WaitFor after the switch: %v", err)
	}
}
