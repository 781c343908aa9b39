package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/octavia-es/octavia-es/adapters/eventstore/eventstoretest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/adapters/eventstore/postgres"
	"github.com/octavia-es/octavia-es/adapters/pgtest"
	"github.com/octavia-es/octavia-es/events"
)

func event(n int) events.Envelope {
	return events.Envelope{Type: "E", SchemaVersion: 1, Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n))}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestMigrate: before Migrate the store says so; processes migrating at once
// apply each migration once; a second Migrate changes nothing.
func TestMigrate(t *testing.T) {
	ctx := testContext(t)
	dsn := pgtest.Require(t)
	schema := pgtest.Schema(t, dsn, "es_test_")
	stores := make([]*postgres.Store, 4)
	for i := range stores {
		stores[i] = open(t, dsn, postgres.WithSchema(schema))
		closeOnCleanup(t, stores[i])
	}

	s := stores[0]
	calls := []struct {
		name string
		call func() error
	}{
		{"Append", func() error {
			_, err := s.Append(ctx, "a", eventstore.ExpectAny, []events.Envelope{event(1)})
			return err
		}},
		{"Head", func() error { _, err := s.Head(ctx); return err }},
		{"ReadAll", func() error { _, err := s.ReadAll(ctx, 0, 10); return err }},
		{"ReadStream", func() error { _, err := s.ReadStream(ctx, "a", 0); return err }},
		{"Checkpoints.Get", func() error { _, err := s.Checkpoints().Get(ctx, "x"); return err }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, postgres.ErrNotMigrated) {
			t.Errorf("%s before Migrate: err = %v, want ErrNotMigrated", c.name, err)
		}
	}

	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i, st := range stores {
		wg.Go(func() { errs[i] = st.Migrate(ctx) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Migrate: %v", err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	rows, err := conn.Query(ctx, `SELECT version, name FROM `+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+` ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	type applied struct {
		Version int32
		Name    string
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[applied])
	if err != nil {
		t.Fatal(err)
	}
	want := []applied{{1, "0001_events"}, {2, "0002_append_events"}, {3, "0003_append_group"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("schema_migrations = %v, want %v (each once)", got, want)
	}
	for _, c := range calls {
		if err := c.call(); err != nil {
			t.Errorf("%s after Migrate: %v", c.name, err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	dsn := pgtest.Require(t)
	cases := []struct {
		name    string
		dsn     string
		opts    []postgres.Option
		wantMsg string // the error must say this
		hide    string // and must not contain this
	}{
		{"unparsable DSN", "postgres://u:s3cret@host:notaport/db", nil, "invalid DSN", "s3cret"},
		{"empty schema", dsn, []postgres.Option{postgres.WithSchema("")}, "empty schema", ""},
		{"schema too long", dsn, []postgres.Option{postgres.WithSchema(strings.Repeat("s", 64))}, "longer than 63", ""},
		{"schema with NUL", dsn, []postgres.Option{postgres.WithSchema("a\x00b")}, "NUL", ""},
		{"nothing listening", "postgres://postgres:s3cret@127.0.0.1:1/test?sslmode=disable&connect_timeout=2", nil, "connect", "s3cret"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := postgres.Open(testContext(t), c.dsn, c.opts...)
			if err == nil {
				_ = s.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if !strings.Contains(err.Error(), c.wantMsg) {
				t.Errorf("error %q does not say %q", err, c.wantMsg)
			}
			if c.hide != "" && strings.Contains(err.Error(), c.hide) {
				t.Errorf("error %q leaks %q", err, c.hide)
			}
		})
	}
}

func TestCheckpoints(t *testing.T) {
	ctx := testContext(t)
	s := openFresh(t)
	closeOnCleanup(t, s)
	eventstoretest.RunCheckpoints(t, ctx, s.Checkpoints())
}

// TestOtherProcessAppendWakesSubscriber: with polling effectively off, a
// subscriber on one Store (process) must be woken by NOTIFY when another
// Store appends, also in a schema whose name is too long to be a channel
// name as it is.
func TestOtherProcessAppendWakesSubscriber(t *testing.T) {
	for _, suffix := range []string{"", "_" + strings.Repeat("x", 63-len("es_test_0123456789abcdef_"))} {
		t.Run(fmt.Sprintf("schema name of %d bytes", len("es_test_0123456789abcdef")+len(suffix)), func(t *testing.T) {
			ctx := testContext(t)
			dsn := pgtest.Require(t)
			schema := pgtest.Schema(t, dsn, "es_test_", suffix) + suffix
			a := open(t, dsn, postgres.WithSchema(schema), postgres.WithMigrate(), postgres.WithPollInterval(time.Hour))
			closeOnCleanup(t, a)
			b := open(t, dsn, postgres.WithSchema(schema))
			closeOnCleanup(t, b)

			delivered := make(chan int64, 1)
			sub := subscribe(t, a, 0, func(_ context.Context, e events.Envelope) error {
				delivered <- e.Position
				return nil
			})
			for i := range 10 {
				if _, err := b.Append(ctx, "s", eventstore.ExpectAny, []events.Envelope{event(i)}); err != nil {
					t.Fatal(err)
				}
				select {
				case pos := <-delivered:
					if pos != int64(i+1) {
						t.Fatalf("delivered position %d, want %d", pos, i+1)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("append %d by the other store not delivered without polling", i+1)
				}
			}
			if err := sub.stop(); !errors.Is(err, context.Canceled) {
				t.Errorf("Subscribe returned %v, want context.Canceled", err)
			}
		})
	}
}

// TestListenerReconnects: when the LISTEN connection dies, the store
// reconnects, and appends made meanwhile are delivered without polling.
func TestListenerReconnects(t *testing.T) {
	ctx := testContext(t)
	dsn := pgtest.Require(t)
	schema := pgtest.Schema(t, dsn, "es_test_")
	a := open(t, dsn, postgres.WithSchema(schema), postgres.WithMigrate(), postgres.WithPollInterval(time.Hour))
	closeOnCleanup(t, a)
	b := open(t, dsn, postgres.WithSchema(schema))
	closeOnCleanup(t, b)

	delivered := make(chan int64, 10)
	subscribe(t, a, 0, func(_ context.Context, e events.Envelope) error {
		delivered <- e.Position
		return nil
	})
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = admin.Close(ctx) }()
	listen := `LISTEN ` + pgx.Identifier{schema + ".events"}.Sanitize()
	pid := waitForBackend(ctx, t, admin, listen, 0)
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	// Appended while the listener is down or reconnecting.
	if _, err := b.Append(ctx, "s", eventstore.ExpectNoStream, []events.Envelope{event(1)}); err != nil {
		t.Fatal(err)
	}
	select {
	case pos := <-delivered:
		if pos != 1 {
			t.Fatalf("delivered position %d, want 1", pos)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("append made while the listener was down not delivered after it reconnected")
	}
	if newPID := waitForBackend(ctx, t, admin, listen, pid); newPID == pid {
		t.Fatal("listener did not reconnect")
	}
	if _, err := b.Append(ctx, "s", 1, []events.Envelope{event(2)}); err != nil {
		t.Fatal(err)
	}
	select {
	case pos := <-delivered:
		if pos != 2 {
			t.Fatalf("delivered position %d, want 2", pos)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("append after the reconnect not delivered")
	}
}

// waitForBackend returns the pid of the backend whose last query is query,
// other than not.
func waitForBackend(ctx context.Context, t *testing.T, conn *pgx.Conn, query string, not int32) int32 {
	t.Helper()
	for {
		var pid int32
		err := conn.QueryRow(ctx, `SELECT pid FROM pg_stat_activity WHERE query = $1 AND pid <> $2`, query, not).Scan(&pid)
		if err == nil {
			return pid
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no backend running %q", query)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestFailedAppendLeavesNoGap: an append that fails inside append_group
// (its second event reuses a stored ID) writes nothing and does not use up
// positions.
func TestFailedAppendLeavesNoGap(t *testing.T) {
	ctx := testContext(t)
	s := openFresh(t)
	closeOnCleanup(t, s)
	first, err := s.Append(ctx, "a", eventstore.ExpectNoStream, []events.Envelope{event(1)})
	if err != nil {
		t.Fatal(err)
	}
	dup := event(3)
	dup.ID = first[0].ID
	_, err = s.Append(ctx, "b", eventstore.ExpectNoStream, []events.Envelope{event(2), dup})
	if err == nil || errors.Is(err, eventstore.ErrConcurrency) || !strings.Contains(err.Error(), "already stored") {
		t.Fatalf("append reusing a stored ID: err = %v, want an 'already stored' error", err)
	}
	if h, err := s.Head(ctx); err != nil || h != 1 {
		t.Errorf("Head = %d, %v after the failed batch; want 1", h, err)
	}
	got, err := s.Append(ctx, "b", eventstore.ExpectNoStream, []events.Envelope{event(4)})
	if err != nil || got[0].Position != 2 || got[0].Version != 1 {
		t.Fatalf("append after the failed batch = %+v, %v; want position 2 version 1", got, err)
	}
}

// TestAppendReturnsWhatIsStored: the store keeps microseconds, so Append
// returns the time truncated as a read will return it, in UTC.
func TestAppendReturnsWhatIsStored(t *testing.T) {
	ctx := testContext(t)
	s := openFresh(t)
	closeOnCleanup(t, s)
	e := event(1)
	e.Time = time.Date(2025, 6, 30, 23, 59, 59, 999_999_999, time.FixedZone("x", -7*3600))
	got, err := s.Append(ctx, "a", eventstore.ExpectNoStream, []events.Envelope{e})
	if err != nil {
		t.Fatal(err)
	}
	read, err := s.ReadStream(ctx, "a", 0)
	if err != nil || len(read) != 1 {
		t.Fatalf("ReadStream = %v, %v", read, err)
	}
	want := time.Date(2025, 7, 1, 6, 59, 59, 999_999_000, time.UTC)
	for name, tm := range map[string]time.Time{"returned": got[0].Time, "read": read[0].Time} {
		if !tm.Equal(want) || tm.Location() != time.UTC {
			t.Errorf("%s time %v, want %v", name, tm, want)
		}
	}
	for _, y := range []int{0, 10000} {
		bad := event(2)
		bad.Time = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
		if _, err := s.Append(ctx, "a", eventstore.ExpectAny, []events.Envelope{bad}); err == nil {
			t.Errorf("append with year %d succeeded, want an error", y)
		}
	}
}

// TestSchemasAreSeparate: two stores in two schemas of one database share
// nothing.
func TestSchemasAreSeparate(t *testing.T) {
	ctx := testContext(t)
	a := openFresh(t)
	closeOnCleanup(t, a)
	b := openFresh(t)
	closeOnCleanup(t, b)
	if _, err := a.Append(ctx, "s", eventstore.ExpectNoStream, []events.Envelope{event(1), event(2)}); err != nil {
		t.Fatal(err)
	}
	got, err := b.Append(ctx, "s", eventstore.ExpectNoStream, []events.Envelope{event(3)})
	if err != nil || got[0].Position != 1 {
		t.Fatalf("append in the other schema = %+v, %v; want position 1", got, err)
	}
	if h, err := a.Head(ctx); err != nil || h != 2 {
		t.Errorf("first schema Head = %d, %v; want 2", h, err)
	}
}

// sub runs Subscribe in the background until stop.
type sub struct {
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

func subscribe(t *testing.T, s *postgres.Store, after int64, handle func(context.Context, events.Envelope) error) *sub {
	ctx, cancel := context.WithCancel(context.Background())
	r := &sub{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- s.Subscribe(ctx, after, handle) }()
	t.Cleanup(func() { _ = r.stop() }) // before the store closes (cleanups run LIFO)
	return r
}

func (r *sub) stop() error {
	r.once.Do(func() {
		r.cancel()
		r.err = <-r.done
	})
	return r.err
}

// TestAppendCancelledWhileWaiting: appends whose context ends while they
// wait for the positions lock (here held by another connection) return the
// context's error, whether the caller sent its call itself (the writer idle)
// or queued it for the writer. The caller's own call is cancelled with it;
// a queued one the writer already sent may still be written (as documented)
// once the lock is free. Either way positions stay gap-free.
func TestAppendCancelledWhileWaiting(t *testing.T) {
	ctx := testContext(t)
	dsn := pgtest.Require(t)
	schema := pgtest.Schema(t, dsn, "es_test_")
	s := open(t, dsn, postgres.WithSchema(schema), postgres.WithMigrate())
	closeOnCleanup(t, s)
	if _, err := s.Append(ctx, "a", eventstore.ExpectNoStream, []events.Envelope{event(0)}); err != nil {
		t.Fatal(err)
	}
	holder, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Close(ctx) }()
	tx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT FROM `+pgx.Identifier{schema, "positions"}.Sanitize()+` FOR UPDATE`); err != nil {
		t.Fatal(err)
	}

	// Two at once: the first finds the writer idle and sends its own call,
	// the second queues behind it and goes in the writer's next group.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() {
			actx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			_, errs[i] = s.Append(actx, fmt.Sprintf("s%d", i), eventstore.ExpectNoStream, []events.Envelope{event(i)})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("append %d: err = %v, want context.DeadlineExceeded", i, err)
		}
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "b", eventstore.ExpectNoStream, []events.Envelope{event(9)}); err != nil {
		t.Fatal(err)
	}
	all, err := s.ReadAll(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	// Whether a cancelled append was written is not known to its caller
	// (pgx sends PostgreSQL a cancel request; a backend that gets the lock
	// before that request arrives commits), so only what must hold either
	// way is checked: no gap, and Head at the last position.
	for i, e := range all {
		if e.Position != int64(i+1) {
			t.Fatalf("position %d at index %d, want %d (no gaps)", e.Position, i, i+1)
		}
	}
	if h, err := s.Head(ctx); err != nil || h != int64(len(all)) {
		t.Errorf("Head = %d, %v; want %d", h, err, len(all))
	}
}
