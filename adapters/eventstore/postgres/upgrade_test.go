package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/adapters/eventstore/postgres"
	"github.com/octavia-es/octavia-es/adapters/pgtest"
	"github.com/octavia-es/octavia-es/events"
)

// TestUpgradeFromAppendEvents: a schema the previous build left (migrations
// 1–2, events appended through append_events) migrates to append_group;
// then processes of the old build (append_events) and of this one
// (append_group) append at once, and positions stay contiguous and every
// stream's versions too: both functions queue on the same positions row
// lock.
func TestUpgradeFromAppendEvents(t *testing.T) {
	ctx := testContext(t)
	dsn := pgtest.Require(t)
	schema := pgtest.Schema(t, dsn, "es_test_")
	s := open(t, dsn, postgres.WithSchema(schema), postgres.WithMaxConns(8))
	closeOnCleanup(t, s)
	if err := postgres.MigrateTo(ctx, s, 2); err != nil {
		t.Fatal(err)
	}
	old := oldBuild(ctx, t, dsn, schema)

	if _, err := s.Append(ctx, "new-x", eventstore.ExpectAny, []events.Envelope{event(0)}); !errors.Is(err, postgres.ErrNotMigrated) {
		t.Fatalf("Append before migration 3: err = %v, want ErrNotMigrated", err)
	}
	for v := range 3 {
		if err := old.append(ctx, "old-before", int64(2*v), 2); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	const writers, appends = 4, 20
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers)
	total := 6
	for w := range writers {
		total += 2 * appends * (1 + w%3)
		wg.Go(func() {
			stream := fmt.Sprintf("old-%d", w)
			for v := range appends {
				if err := old.append(ctx, stream, int64(v*(1+w%3)), 1+w%3); err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() {
			stream := fmt.Sprintf("new-%d", w)
			evs := make([]events.Envelope, 1+w%3)
			for i := range evs {
				evs[i] = event(i)
			}
			for v := range appends {
				if _, err := s.Append(ctx, stream, int64(v*len(evs)), evs); err != nil {
					errs <- fmt.Errorf("%s: %w", stream, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	all, err := s.ReadAll(ctx, 0, 10*total)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != total {
		t.Fatalf("ReadAll holds %d events, want %d", len(all), total)
	}
	versions := map[string]int64{}
	for i, e := range all {
		if e.Position != int64(i+1) {
			t.Fatalf("position %d at index %d, want %d (gap or duplicate)", e.Position, i, i+1)
		}
		versions[e.Stream]++
		if e.Version != versions[e.Stream] {
			t.Fatalf("%s: version %d at position %d, want %d", e.Stream, e.Version, e.Position, versions[e.Stream])
		}
	}
	if h, err := s.Head(ctx); err != nil || h != int64(total) {
		t.Errorf("Head = %d, %v; want %d", h, err, total)
	}
}

// oldBuildStore appends as the previous build did: one call of
// append_events (migrations/0002) per append.
type oldBuildStore struct {
	pool    *pgxpool.Pool
	channel string
}

func oldBuild(ctx context.Context, t *testing.T, dsn, schema string) *oldBuildStore {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 4
	cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = "read committed"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return &oldBuildStore{pool: pool, channel: schema + ".events"}
}

func (o *oldBuildStore) append(ctx context.Context, stream string, expected int64, n int) error {
	var (
		appendOf, svs                 = make([]int32, n), make([]int32, n)
		ids, types, actors, corr, cau = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		times                         = make([]time.Time, n)
		data                          = make([]string, n)
	)
	for i := range n {
		appendOf[i], svs[i], times[i] = 1, 1, time.Now()
		ids[i], types[i], actors[i], data[i] = fmt.Sprintf("%s-%d-%d", stream, expected, i), "E", `{}`, `{"old":true}`
	}
	var ok bool
	err := o.pool.QueryRow(ctx, `SELECT appended FROM append_events($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb[], $11, $12, $13::json[])`,
		o.channel, []string{stream}, []int64{expected}, []int32{int32(n)}, appendOf,
		ids, types, svs, times, actors, corr, cau, data).Scan(&ok)
	if err != nil {
		return fmt.Errorf("append_events to %s: %w", stream, err)
	}
	if !ok {
		return fmt.Errorf("append_events to %s at %d: rejected", stream, expected)
	}
	return nil
}
