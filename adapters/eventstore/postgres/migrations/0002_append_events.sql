-- 0002: append_events, the whole append in one statement (one round trip,
-- one implicit transaction), so no client holds the positions row lock
-- across the network.
--
-- Order matters:
--   1. UPDATE positions: takes the row lock, held until commit. Appenders
--      queue here; the next one reads the row only once this transaction has
--      committed (or rolled back), so positions are handed out in commit
--      order and without gaps.
--   2. The stream's version is read after the lock, by a new statement of a
--      VOLATILE function under READ COMMITTED, hence with a fresh snapshot
--      that sees every append committed before ours: the expected-version
--      check is exact and ExpectAny (-1) never loses a race.
--   3. Insert, then pg_notify: PostgreSQL delivers the notification only
--      after the commit, so a woken follower finds the events.
-- A failed check raises SQLSTATE OC409, which the Go side maps to
-- eventstore.ErrConcurrency.
CREATE FUNCTION append_events(
    p_stream          text,
    p_expected        bigint,
    p_channel         text,
    p_ids             text[],
    p_types           text[],
    p_schema_versions integer[],
    p_times           timestamptz[],
    p_actors          jsonb[],
    p_correlation_ids text[],
    p_causation_ids   text[],
    p_data            json[],
    OUT last_position bigint,
    OUT last_version  bigint
) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_count   integer := cardinality(p_ids);
    v_current bigint;
BEGIN
    IF v_count IS NULL OR v_count = 0 THEN
        RAISE EXCEPTION 'append_events: no events' USING ERRCODE = '22023';
    END IF;

    UPDATE positions SET last = last + v_count RETURNING last INTO last_position;

    SELECT COALESCE(MAX(version), 0) INTO v_current FROM events WHERE stream = p_stream;
    IF p_expected <> -1 AND v_current <> p_expected THEN
        RAISE EXCEPTION 'stream % is at version %, expected %', p_stream, v_current, p_expected
            USING ERRCODE = 'OC409';
    END IF;

    INSERT INTO events (position, id, stream, version, type, schema_version, time, actor,
                        correlation_id, causation_id, data)
    SELECT last_position - v_count + u.ord, u.id, p_stream, v_current + u.ord, u.type, u.schema_version,
           u.time, u.actor, u.correlation_id, u.causation_id, u.data
    FROM unnest(p_ids, p_types, p_schema_versions, p_times, p_actors, p_correlation_ids,
                p_causation_ids, p_data)
         WITH ORDINALITY AS u(id, type, schema_version, time, actor, correlation_id, causation_id, data, ord);

    PERFORM pg_notify(p_channel, last_position::text);
    last_version := v_current + v_count;
END
$$;
