package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/eventstore/eventstoretest"
	"github.com/octavia-es/octavia-es/adapters/eventstore/postgres"
)

// sequenceAppend is the textbook mistake append_events avoids: positions
// from a sequence (as a bigserial column would give them), with no lock. Two
// appends can then commit in the other order than their positions, and a
// follower that read past the higher one never sees the lower one.
const sequenceAppend = `
CREATE SEQUENCE positions_seq;
CREATE FUNCTION append_events_sequence(
    p_stream text, p_expected bigint, p_channel text, p_ids text[], p_types text[],
    p_schema_versions integer[], p_times timestamptz[], p_actors jsonb[], p_correlation_ids text[],
    p_causation_ids text[], p_data json[], OUT last_position bigint, OUT last_version bigint
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_count   integer := cardinality(p_ids);
    v_current bigint;
BEGIN
    SELECT COALESCE(MAX(version), 0) INTO v_current FROM events WHERE stream = p_stream;
    IF p_expected <> -1 AND v_current <> p_expected THEN
        RAISE EXCEPTION 'stream % is at version %, expected %', p_stream, v_current, p_expected
            USING ERRCODE = 'OC409';
    END IF;
    WITH ins AS (
        INSERT INTO events (position, id, stream, version, type, schema_version, time, actor,
                            correlation_id, causation_id, data)
        SELECT nextval('positions_seq'), u.id, p_stream, v_current + u.ord, u.type, u.schema_version,
               u.time, u.actor, u.correlation_id, u.causation_id, u.data
        FROM unnest(p_ids, p_types, p_schema_versions, p_times, p_actors, p_correlation_ids,
                    p_causation_ids, p_data)
             WITH ORDINALITY AS u(id, type, schema_version, time, actor, correlation_id, causation_id, data, ord)
        RETURNING position)
    SELECT MAX(position) INTO last_position FROM ins;
    PERFORM pg_notify(p_channel, last_position::text);
    last_version := v_current + v_count;
END
$$;`

// TestFollowCatchesSequencePositions shows the conformance suite's hard case
// fails a store fed by a plain sequence, so its passing on the real store
// means something. Reordering is a race, so a few fresh attempts are allowed.
func TestFollowCatchesSequencePositions(t *testing.T) {
	const attempts = 5
	for i := range attempts {
		s := openFresh(t, postgres.WithMaxConns(16))
		if _, err := s.ExecForTest(context.Background(), sequenceAppend); err != nil {
			t.Fatal(err)
		}
		postgres.UseAppendFunction(s, "append_events_sequence")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := eventstoretest.FollowConcurrentAppends(ctx, s, 16, 25)
		cancel()
		_ = s.Close()
		if err != nil {
			t.Logf("attempt %d: caught: %v", i+1, err)
			return
		}
	}
	t.Fatalf("a sequence-fed store passed FollowConcurrentAppends %d times in a row", attempts)
}
