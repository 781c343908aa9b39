package postgres_test

import (
	"context"
	"hash/fnv"
	"strings"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/eventstore/eventstoretest"
	"github.com/octavia-es/octavia-es/adapters/eventstore/postgres"
	"github.com/octavia-es/octavia-es/adapters/pgtest"
	"github.com/octavia-es/octavia-es/events"
)

// sequenceAppend is the textbook mistake append_group avoids: positions
// from a sequence (as a bigserial column would give them), with no lock (and
// Head left alone, since updating the counter would take the lock). Two
// transactions can then commit in the other order than their positions, and
// a follower that read past the higher one never sees the lower one.
const sequenceAppend = `
CREATE SEQUENCE positions_seq;
CREATE FUNCTION append_group_sequence(
    p_channel text, p_streams text[], p_expected bigint[], p_append_of integer[],
    p_ids text[], p_types text[], p_schema_versions integer[], p_times timestamptz[], p_actors jsonb[],
    p_actor_of integer[], p_correlation_ids text[], p_causation_ids text[], p_data json[],
    OUT appended boolean[], OUT current_version bigint[], OUT base bigint, OUT written bigint)
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    SELECT array_agg(a.expected = -1 OR a.expected = m.current ORDER BY a.idx),
           array_agg(m.current ORDER BY a.idx)
    INTO appended, current_version
    FROM unnest(p_streams, p_expected) WITH ORDINALITY AS a(stream, expected, idx)
    CROSS JOIN LATERAL (
        SELECT COALESCE(MAX(e.version), 0) AS current FROM events e WHERE e.stream = a.stream
    ) m;

    -- The store takes the accepted appends' positions as base+1, base+2, …;
    -- when other transactions' nextval calls interleave, that is not what
    -- is stored, which the Follow check does not look at: it reads.
    WITH ins AS (
        INSERT INTO events (position, id, stream, version, type, schema_version, time, actor,
                            correlation_id, causation_id, data)
        SELECT nextval('positions_seq'), u.id, p_streams[u.append_of], current_version[u.append_of] + u.ord,
               u.type, u.schema_version, u.time, p_actors[u.actor_of], u.correlation_id, u.causation_id, u.data
        FROM (
            SELECT x.*, ROW_NUMBER() OVER (PARTITION BY x.append_of ORDER BY x.n) AS ord
            FROM unnest(p_append_of, p_ids, p_types, p_schema_versions, p_times, p_actor_of,
                        p_correlation_ids, p_causation_ids, p_data)
                 WITH ORDINALITY AS x(append_of, id, type, schema_version, time, actor_of,
                                      correlation_id, causation_id, data, n)
        ) u
        WHERE appended[u.append_of]
        ORDER BY u.append_of, u.n
        RETURNING position)
    SELECT COALESCE(MIN(position) - 1, 0), count(*) INTO base, written FROM ins;

    PERFORM pg_notify(p_channel, '');
END
$$;`

// processes is one store in a schema opened n times, as n processes would:
// appends go to the handle their stream hashes to, everything else to the
// first. Each handle has its own writer, so their transactions race.
type processes []*postgres.Store

func openProcesses(t testing.TB, n int, setup, appendFn string) processes {
	t.Helper()
	dsn := pgtest.Require(t)
	schema := pgtest.Schema(t, dsn, "es_test_")
	ps := make(processes, n)
	for i := range ps {
		opts := []postgres.Option{postgres.WithSchema(schema), postgres.WithMaxConns(2)}
		if i == 0 {
			opts = append(opts, postgres.WithMigrate())
		}
		ps[i] = open(t, dsn, opts...)
		closeOnCleanup(t, ps[i])
		if i == 0 && setup != "" {
			if _, err := ps[0].ExecForTest(context.Background(), setup); err != nil {
				t.Fatal(err)
			}
		}
		if appendFn != "" {
			postgres.UseAppendFunction(ps[i], appendFn)
		}
	}
	return ps
}

func (ps processes) Append(ctx context.Context, stream string, expected int64, evs []events.Envelope) ([]events.Envelope, error) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(stream))
	return ps[int(h.Sum32())%len(ps)].Append(ctx, stream, expected, evs)
}

func (ps processes) ReadStream(ctx context.Context, stream string, after int64) ([]events.Envelope, error) {
	return ps[0].ReadStream(ctx, stream, after)
}

func (ps processes) ReadAll(ctx context.Context, after int64, limit int) ([]events.Envelope, error) {
	return ps[0].ReadAll(ctx, after, limit)
}

func (ps processes) Head(ctx context.Context) (int64, error) { return ps[0].Head(ctx) }

func (ps processes) Subscribe(ctx context.Context, after int64, handle func(context.Context, events.Envelope) error) error {
	return ps[0].Subscribe(ctx, after, handle)
}

func (ps processes) Close() error { return nil } // closed at cleanup

// TestFollowAcrossProcesses: the hard case with every writer in a process
// of its own, so appends race on the positions lock across connections
// rather than meeting in one process's writer.
func TestFollowAcrossProcesses(t *testing.T) {
	ps := openProcesses(t, 16, "", "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := eventstoretest.FollowConcurrentAppends(ctx, ps, 16, 25); err != nil {
		t.Fatal(err)
	}
}

// TestFollowCatchesSequencePositions shows the same check fails a store fed
// by a plain sequence, so its passing on the real store means something.
// Reordering is a race, so a few fresh attempts are allowed.
func TestFollowCatchesSequencePositions(t *testing.T) {
	const attempts = 5
	for i := range attempts {
		ps := openProcesses(t, 16, sequenceAppend, "append_group_sequence")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := eventstoretest.FollowConcurrentAppends(ctx, ps, 16, 25)
		cancel()
		switch {
		case err != nil && strings.Contains(err.Error(), "delivery out of order"):
			t.Logf("attempt %d: caught: %v", i+1, err)
			return
		case err != nil: // anything else says nothing about the check
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	t.Fatalf("a sequence-fed store passed FollowConcurrentAppends %d times in a row", attempts)
}
