package projections

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/pgtest"
)

// onPostgres is the test that runs the read model's tests again on
// PostgreSQL: openTest opens a PostgreSQL read model under it.
const onPostgres = "TestOnPostgres"

// TestOnPostgres runs the list, get, stats, projector and amphorae tests
// against a PostgreSQL read model (each in a schema of its own): one
// behaviour, two engines.
func TestOnPostgres(t *testing.T) {
	pgtest.Require(t)
	for name, test := range map[string]func(*testing.T){
		"ListFilters": TestListFilters, "ListInvalidQueries": TestListInvalidQueries, "ListSort": TestListSort,
		"ListPagination": TestListPagination, "PageReverseWithoutMarker": TestPageReverseWithoutMarkerIsTheFirstPage,
		"ListRawMatchesTyped": TestListRawMatchesTyped, "GetAndChildren": TestGetAndChildren,
		"GraphRewriteDropsVanishedRows": TestGraphRewriteDropsVanishedRows, "PendingLoadBalancers": TestPendingLoadBalancers,
		"Stats": TestStats, "WaitFor": TestWaitFor, "AddListenerStats": TestAddListenerStats,
		"ProjectorAmphoraeLifecycle": TestProjectorAmphoraeLifecycle, "ListAmphorae": TestListAmphorae,
		"ProjectorLifecycle": TestProjectorLifecycle, "ProjectorSkipsRedelivery": TestProjectorSkipsRedelivery,
		"ProjectorCacheMiss": TestProjectorCacheMiss, "ProjectorBatchesCatchUp": TestProjectorBatchesCatchUp,
		"ProjectorIgnoresOtherStreams": TestProjectorIgnoresOtherStreams, "ProjectorStopsOnBadEvent": TestProjectorStopsOnBadEvent,
	} {
		t.Run(name, test)
	}
}

// newTestSchema names a schema for this test only (prefix rm_test_),
// dropped at cleanup after the read models opened on it are closed.
func newTestSchema(t testing.TB) string {
	t.Helper()
	return pgtest.Schema(t, pgtest.Require(t), "rm_test_")
}

func openPostgresTest(t testing.TB, schema string) *ReadModel {
	t.Helper()
	rm, err := OpenPostgres(context.Background(), PostgresConfig{DSN: pgtest.DSN(), Schema: schema, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rm.Close() })
	return rm
}

// dumpReadModel is dumpRows of rm, whichever its engine.
func dumpReadModel(t *testing.T, rm *ReadModel) map[string][]string {
	t.Helper()
	return dumpRows(t, rm.read)
}

// pgEnv: a random workload of the real aggregate on a SQLite event store,
// projected by a SQLite read model (the reference) and by PostgreSQL ones.
type pgEnv struct {
	*liveEnv
	schema string
}

func newPGEnv(t *testing.T) *pgEnv {
	t.Helper()
	schema := newTestSchema(t)
	return &pgEnv{liveEnv: newLiveEnv(t), schema: schema}
}

// TestPostgresMatchesSQLite: the PostgreSQL read model holds, row for row
// and column for column, what the SQLite one holds after the same random
// workload; a replay in place while its projector runs changes nothing.
func TestPostgresMatchesSQLite(t *testing.T) {
	ctx := context.Background()
	e := newPGEnv(t)
	pg := openPostgresTest(t, e.schema)
	startProjector(t, pg, e.store, nil)
	e.workload(t, 11, 40, 600)
	head := e.settle(t)
	waitFor(t, pg, head)
	want := dumpReadModel(t, e.rm)
	assertSameRows(t, "PostgreSQL vs SQLite", dumpReadModel(t, pg), want)

	res, err := ReplayPostgres(ctx, PostgresConfig{DSN: pgtest.DSN(), Schema: e.schema}, e.store, e.reg, ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Generations[ProjectionLoadBalancers] != 2 {
		t.Errorf("generations after replay: %v", res.Generations)
	}
	e.workload(t, 12, 10, 200) // the projector follows the switch
	head = e.settle(t)
	waitFor(t, pg, head)
	assertSameRows(t, "PostgreSQL after replay vs SQLite", dumpReadModel(t, pg), dumpReadModel(t, e.rm))
}

// TestPostgresProjectorsFenced: three processes' read models on one schema,
// two of them projecting at once while commands write: every row is what
// one projector alone would write (the SQLite reference), and the third,
// which never projects, sees the checkpoint move (read-your-writes).
func TestPostgresProjectorsFenced(t *testing.T) {
	e := newPGEnv(t)
	a, b, reader := openPostgresTest(t, e.schema), openPostgresTest(t, e.schema), openPostgresTest(t, e.schema)
	pa := startProjector(t, a, e.store, nil)
	pb := startProjector(t, b, e.store, nil)
	// Unfenced, the projector that lags would commit its older checkpoint
	// over the other's: the stored checkpoint must never go back.
	stop := make(chan struct{})
	var watch sync.WaitGroup
	watch.Go(func() {
		var last int64
		for {
			select {
			case <-stop:
				return
			default:
			}
			pos, err := readCheckpoint(context.Background(), reader.read)
			if err != nil {
				t.Error(err)
				return
			}
			if pos < last {
				t.Errorf("stored checkpoint went back from %d to %d", last, pos)
				return
			}
			last = pos
		}
	})
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			if err := e.run(uint64(20+i), 15, 200); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	close(stop)
	watch.Wait()
	head := e.settle(t)
	waitFor(t, a, head)
	waitFor(t, b, head)
	waitFor(t, reader, head)
	t.Logf("commits: a=%d b=%d", pa.p.commits.Load(), pb.p.commits.Load())
	assertSameRows(t, "two projectors vs one", dumpReadModel(t, reader), dumpReadModel(t, e.rm))
}

// TestPostgresReopenKeepsCheckpoint: a second OpenPostgres of a migrated
// schema (another process starting) keeps rows and checkpoint.
func TestPostgresReopenKeepsCheckpoint(t *testing.T) {
	ctx := context.Background()
	schema := newTestSchema(t)
	rm := openPostgresTest(t, schema)
	writeStates(t, rm, 42, lbState(1, "p1", time.Now()))
	again := openPostgresTest(t, schema)
	if pos, _ := again.Checkpoint(ctx); pos != 42 {
		t.Errorf("checkpoint after reopen: %d, want 42", pos)
	}
	if _, err := again.GetLoadBalancer(ctx, lbIDOf(1)); err != nil {
		t.Errorf("row after reopen: %v", err)
	}
}

// TestPostgresSchemaName refuses schema names that are not plain
// PostgreSQL identifiers.
func TestPostgresSchemaName(t *testing.T) {
	for _, s := range []string{"Bad", "x-y", strings.Repeat("a", 64), "1abc"} {
		if _, err := OpenPostgres(context.Background(), PostgresConfig{DSN: pgtest.DSN(), Schema: s}); err == nil {
			t.Errorf("schema %q accepted", s)
		}
	}
}
