-- 0001: the events table, the position counter and the subscribers'
-- checkpoints. Migrations are append-only and additive (an older build keeps
-- working on a newer schema); never edit a released file.

-- position is assigned from the positions row inside the append transaction
-- (see 0002). time is rounded to the microsecond by the writer. data is
-- json, not jsonb: json keeps the stored bytes exactly as written.
CREATE TABLE events (
    position       bigint      PRIMARY KEY,
    id             text        NOT NULL,
    stream         text        NOT NULL,
    version        bigint      NOT NULL,
    type           text        NOT NULL,
    schema_version integer     NOT NULL,
    time           timestamptz NOT NULL,
    actor          jsonb       NOT NULL,
    correlation_id text        NOT NULL DEFAULT '',
    causation_id   text        NOT NULL DEFAULT '',
    data           json        NOT NULL,
    CONSTRAINT events_id_key UNIQUE (id),
    CONSTRAINT events_stream_version_key UNIQUE (stream, version),
    CONSTRAINT events_position_check CHECK (position > 0),
    CONSTRAINT events_version_check CHECK (version > 0)
);

-- One row: the last position handed out. Every append updates it, so its
-- row lock orders appenders. A low fillfactor leaves room on the page for
-- HOT updates of the row between vacuums.
CREATE TABLE positions (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last      bigint  NOT NULL CHECK (last >= 0)
) WITH (fillfactor = 10);
INSERT INTO positions (singleton, last) VALUES (true, 0);

CREATE TABLE checkpoints (
    name     text   PRIMARY KEY,
    position bigint NOT NULL CHECK (position >= 0)
);
