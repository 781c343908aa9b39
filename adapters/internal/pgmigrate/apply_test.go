package pgmigrate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/octavia-es/octavia-es/adapters/internal/pgmigrate"
	"github.com/octavia-es/octavia-es/adapters/pgtest"
)

const lockPurpose = "octavia-es/pgmigrate/test"

// files are three migrations; the first runs two statements (pgx's simple
// protocol) and none would survive being applied twice.
var files = []pgmigrate.Migration{
	{Version: 1, Name: "0001_t", SQL: `CREATE TABLE t (n integer PRIMARY KEY); INSERT INTO t VALUES (1);`},
	{Version: 2, Name: "0002_two", SQL: `INSERT INTO t VALUES (2)`},
	{Version: 3, Name: "0003_u", SQL: `CREATE TABLE u (n integer PRIMARY KEY)`},
}

// run is one Apply of a scenario; plan's Schema is filled in.
type run struct {
	plan        pgmigrate.Plan
	wantApplied []string
	wantCreated bool
	wantErr     string // a part of the error; "" for none
}

func plan(table string, migs []pgmigrate.Migration) pgmigrate.Plan {
	return pgmigrate.Plan{Table: table, LockPurpose: lockPurpose, Migrations: migs}
}

// insertOnCreate is an OnCreate that adds a row to t, created by version 1.
func insertOnCreate(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `INSERT INTO t VALUES (100)`)
	return err
}

func TestApply(t *testing.T) {
	pool := testPool(t)
	boom := errors.New("boom")
	withHook := func(p pgmigrate.Plan, hook func(context.Context, pgx.Tx) error) pgmigrate.Plan {
		p.OnCreate = hook
		return p
	}
	cases := []struct {
		name        string
		runs        []run
		wantRecords map[string][]string // table → names recorded; nil: the schema must not exist
		wantRows    []int               // of t
	}{
		{"fresh schema, then a re-run is a no-op", []run{
			{plan: plan("m", files), wantApplied: []string{"0001_t", "0002_two", "0003_u"}, wantCreated: true},
			{plan: withHook(plan("m", files), func(context.Context, pgx.Tx) error { return boom })},
		}, map[string][]string{"m": {"0001_t", "0002_two", "0003_u"}}, []int{1, 2}},
		{"an older build's schema gets the rest only", []run{
			{plan: plan("m", files[:1]), wantApplied: []string{"0001_t"}, wantCreated: true},
			{plan: withHook(plan("m", files), func(context.Context, pgx.Tx) error { return boom }), wantApplied: []string{"0002_two", "0003_u"}},
		}, map[string][]string{"m": {"0001_t", "0002_two", "0003_u"}}, []int{1, 2}},
		{"a newer build's migrations are left alone", []run{
			{plan: plan("m", files), wantApplied: []string{"0001_t", "0002_two", "0003_u"}, wantCreated: true},
			{plan: plan("m", files[:2])},
		}, map[string][]string{"m": {"0001_t", "0002_two", "0003_u"}}, []int{1, 2}},
		{"OnCreate runs in the transaction that applies version 1", []run{
			{plan: withHook(plan("m", files[:2]), insertOnCreate), wantApplied: []string{"0001_t", "0002_two"}, wantCreated: true},
		}, map[string][]string{"m": {"0001_t", "0002_two"}}, []int{1, 2, 100}},
		{"a failing migration leaves nothing behind", []run{
			{plan: plan("m", []pgmigrate.Migration{files[0], {Version: 2, Name: "0002_bad", SQL: `SELECT * FROM nowhere`}}), wantErr: "0002_bad: "},
		}, nil, nil},
		{"a failing OnCreate leaves nothing behind", []run{
			{plan: withHook(plan("m", files), func(context.Context, pgx.Tx) error { return boom }), wantErr: "boom"},
		}, nil, nil},
		{"plans sharing a schema keep records apart", []run{
			{plan: plan("m", files[:2]), wantApplied: []string{"0001_t", "0002_two"}, wantCreated: true},
			{plan: plan("other_migrations", []pgmigrate.Migration{{Version: 1, Name: "0001_v", SQL: `CREATE TABLE v ()`}}), wantApplied: []string{"0001_v"}, wantCreated: true},
		}, map[string][]string{"m": {"0001_t", "0002_two"}, "other_migrations": {"0001_v"}}, []int{1, 2}},
		{"a plan without a table is refused", []run{
			{plan: plan("", files), wantErr: "a plan needs"},
		}, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := t.Context()
			schema := newSchema(t, pool)
			for i, r := range c.runs {
				r.plan.Schema = schema
				res, err := pgmigrate.Apply(ctx, pool, r.plan)
				if r.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), r.wantErr) {
						t.Fatalf("run %d: err = %v, want one saying %q", i+1, err, r.wantErr)
					}
					continue
				}
				if err != nil {
					t.Fatalf("run %d: %v", i+1, err)
				}
				if fmt.Sprint(res.Applied) != fmt.Sprint(r.wantApplied) || res.Created != r.wantCreated {
					t.Fatalf("run %d = %+v, want applied %v, created %v", i+1, res, r.wantApplied, r.wantCreated)
				}
			}
			if c.wantRecords == nil {
				var n int
				if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, schema).Scan(&n); err != nil || n != 0 {
					t.Fatalf("schema %s: %d of it, %v; want none left behind", schema, n, err)
				}
				return
			}
			for table, want := range c.wantRecords {
				if got := query[string](t, pool, `SELECT name FROM `+pgx.Identifier{schema, table}.Sanitize()+` ORDER BY version`); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s records %v, want %v", table, got, want)
				}
			}
			if got := query[int32](t, pool, `SELECT n FROM `+pgx.Identifier{schema, "t"}.Sanitize()+` ORDER BY n`); fmt.Sprint(got) != fmt.Sprint(c.wantRows) {
				t.Errorf("rows of t %v, want %v", got, c.wantRows)
			}
		})
	}
}

// TestApplyConcurrentRunsSerialise: runs at once on a schema that does not
// exist yet apply each migration once (each would fail applied twice), and
// only one of them runs OnCreate.
func TestApplyConcurrentRunsSerialise(t *testing.T) {
	pool := testPool(t)
	schema := newSchema(t, pool)
	var hooks atomic.Int32
	p := plan("m", files)
	p.Schema = schema
	p.OnCreate = func(context.Context, pgx.Tx) error { hooks.Add(1); return nil }
	results := make([]pgmigrate.Result, 4)
	errs := make([]error, len(results))
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { results[i], errs[i] = pgmigrate.Apply(t.Context(), pool, p) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Apply: %v", err)
	}
	var applied []string
	created := 0
	for _, r := range results {
		applied = append(applied, r.Applied...)
		if r.Created {
			created++
		}
	}
	if fmt.Sprint(applied) != "[0001_t 0002_two 0003_u]" || created != 1 || hooks.Load() != 1 {
		t.Fatalf("across runs: applied %v, created %d times, OnCreate ran %d times; want each once", applied, created, hooks.Load())
	}
}

// TestApplyWaitsForTheLock: a run waits while another session holds the
// plan's advisory lock (as a process of an older build migrating takes it),
// and applies once it is released.
func TestApplyWaitsForTheLock(t *testing.T) {
	pool := testPool(t)
	ctx := t.Context()
	schema := newSchema(t, pool)
	key := pgmigrate.LockKey(lockPurpose, schema)
	holder, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Rollback(context.Background()) }()
	if _, err := holder.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, key); err != nil {
		t.Fatal(err)
	}
	p := plan("m", files)
	p.Schema = schema
	done := make(chan error, 1)
	go func() { _, err := pgmigrate.Apply(ctx, pool, p); done <- err }()

	// pg_locks splits a bigint key into classid (high half) and objid.
	for waiting := false; !waiting; {
		select {
		case err := <-done:
			t.Fatalf("Apply returned (%v) while the lock was held", err)
		case <-time.After(10 * time.Millisecond):
		}
		if err := pool.QueryRow(ctx, `SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND classid::bigint = $1 AND objid::bigint = $2`, uint32(uint64(key)>>32), uint32(key)).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
	}
	if err := holder.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Apply after the lock was released: %v", err)
	}
}

// TestLockKey pins the keys the builds before this package took (the
// purposes are the event store's and the VIP ledger's): a key that changed
// would let an older and a newer process migrate one schema at once.
func TestLockKey(t *testing.T) {
	cases := []struct {
		purpose, schema string
		want            int64
	}{
		{"octavia-es/eventstore/migrate", "eventstore", -4221416052041060860},
		{"octavia-es/eventstore/migrate", "es_a", 6943064132487788901},
		{"octavia-es/network/pgledger/migrate", "eventstore", -8564528190219647558},
		{"octavia-es/network/pgledger/migrate", "es_a", 1891404138760338991},
	}
	for _, c := range cases {
		if got := pgmigrate.LockKey(c.purpose, c.schema); got != c.want {
			t.Errorf("LockKey(%q, %q) = %d, want %d", c.purpose, c.schema, got, c.want)
		}
	}
}

// query collects the one column of sql's rows.
func query[T any](t *testing.T, pool *pgxpool.Pool, sql string) []T {
	t.Helper()
	rows, err := pool.Query(t.Context(), sql)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[T])
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// testPool connects to the test PostgreSQL (pgtest.Require: skipped
// without one, except under CI=true).
func testPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.Require(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// newSchema names a schema for this test only (prefix pgmigrate_test_),
// dropped at cleanup.
func newSchema(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	return pgtest.Schema(t, pool.Config().ConnString(), "pgmigrate_test_")
}
