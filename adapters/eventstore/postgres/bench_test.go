package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/adapters/eventstore/postgres"
	"github.com/octavia-es/octavia-es/adapters/pgtest"
	"github.com/octavia-es/octavia-es/events"
)

// The append benchmarks and their baseline share one shape: batches of 1 or
// 10 events, from 1 or 16 concurrent writers, each writer on its own 8
// streams with exact expected versions, events/s reported:
//
//	go test -run '^$' -bench . ./adapters/eventstore/postgres/
//
//   - BenchmarkAppend: the store as shipped, one Store shared by the writers
//     (one process): appends queued together share a transaction.
//   - BenchmarkAppendFourProcesses: 16 writers over 4 Stores (processes).
//   - BenchmarkAppendTxPerAppend: the same SQL, but a transaction per append
//     and every writer a Store (process) of its own: appends queue on the
//     positions row lock one commit at a time.
//   - BenchmarkSequenceAppend: a transaction per append with positions from
//     a sequence and no lock, one Store per writer: the write path without
//     gap-free ordering (unsafe, see sequence_test.go), i.e. what the
//     transaction-id high-water technique would write at.
//   - BenchmarkPlainInsert: the baseline, one INSERT … SELECT unnest per
//     batch into a table of the same columns and indexes (positions from an
//     identity column; no version check, no lock, no NOTIFY) on a pool of
//     one connection per writer.

var benchShapes = []struct{ batch, writers int }{{1, 1}, {10, 1}, {1, 16}, {10, 16}}

const benchStreamsPerWriter = 8

// benchEvent is about the size of a real payload (a listener spec).
func benchEvent() events.Envelope {
	return events.Envelope{
		Type:          "ListenerCreateRequested",
		SchemaVersion: 1,
		Actor:         events.Actor{ProjectID: "e3cd678b11784734bc366148aa37580e", RequestID: "req-9b1c2f"},
		CorrelationID: "req-9b1c2f",
		Data: json.RawMessage(`{"id":"0b6c7f8e-2d4f-4c52-9e0e-5d1b0a7c1234","name":"web","protocol":"HTTP",` +
			`"protocol_port":80,"connection_limit":-1,"admin_state_up":true,"timeout_client_data":50000}`),
	}
}

func benchBatch(n int) []events.Envelope {
	out := make([]events.Envelope, n)
	for i := range out {
		out[i] = benchEvent()
	}
	return out
}

// runWriters shares b.N batches among writers goroutines; each calls
// appendTo(stream, version before, batch size) and reports events/s.
func runWriters(b *testing.B, writers, size int, appendTo func(ctx context.Context, w int, stream string, version int64) error) {
	ctx := context.Background()
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	b.ResetTimer()
	for w := range writers {
		wg.Go(func() {
			var versions [benchStreamsPerWriter]int64
			for k := 0; ; k++ {
				if next.Add(1) > int64(b.N) || failed.Load() != nil {
					return
				}
				s := k % benchStreamsPerWriter
				if err := appendTo(ctx, w, fmt.Sprintf("bench-%d-%d", w, s), versions[s]); err != nil {
					failed.Store(&err)
					return
				}
				versions[s] += int64(size)
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkAppend(b *testing.B) {
	for _, sh := range benchShapes {
		b.Run(fmt.Sprintf("batch=%d/writers=%d", sh.batch, sh.writers), func(b *testing.B) {
			s := openFresh(b)
			closeOnCleanup(b, s)
			benchAppend(b, func(int) eventstore.Store { return s }, sh.batch, sh.writers)
		})
	}
}

// BenchmarkAppendFourProcesses: 16 writers spread over 4 Stores, as in a
// deployment of a few API and worker processes: groups of each process then
// queue on the positions lock.
func BenchmarkAppendFourProcesses(b *testing.B) {
	for _, batch := range []int{1, 10} {
		b.Run(fmt.Sprintf("batch=%d/writers=16", batch), func(b *testing.B) {
			ps := openProcesses(b, 4, "", "")
			benchAppend(b, func(w int) eventstore.Store { return ps[w%len(ps)] }, batch, 16)
		})
	}
}

func BenchmarkAppendTxPerAppend(b *testing.B) {
	for _, sh := range benchShapes {
		b.Run(fmt.Sprintf("batch=%d/writers=%d", sh.batch, sh.writers), func(b *testing.B) {
			ps := openProcesses(b, sh.writers, "", "")
			for _, p := range ps {
				postgres.SetGroupAppends(p, 1)
			}
			benchAppend(b, func(w int) eventstore.Store { return ps[w] }, sh.batch, sh.writers)
		})
	}
}

func BenchmarkSequenceAppend(b *testing.B) {
	for _, sh := range benchShapes {
		b.Run(fmt.Sprintf("batch=%d/writers=%d", sh.batch, sh.writers), func(b *testing.B) {
			ps := openProcesses(b, sh.writers, sequenceAppend, "append_group_sequence")
			benchAppend(b, func(w int) eventstore.Store { return ps[w] }, sh.batch, sh.writers)
		})
	}
}

// benchAppend runs writers, writer w appending through store(w).
func benchAppend(b *testing.B, store func(w int) eventstore.Store, size, writers int) {
	batches := make([][]events.Envelope, writers)
	for w := range batches {
		batches[w] = benchBatch(size)
	}
	runWriters(b, writers, size, func(ctx context.Context, w int, stream string, version int64) error {
		_, err := store(w).Append(ctx, stream, version, batches[w])
		return err
	})
}

const plainTable = `CREATE TABLE plain_events (
    position       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             text        NOT NULL UNIQUE,
    stream         text        NOT NULL,
    version        bigint      NOT NULL,
    type           text        NOT NULL,
    schema_version integer     NOT NULL,
    time           timestamptz NOT NULL,
    actor          jsonb       NOT NULL,
    correlation_id text        NOT NULL DEFAULT '',
    causation_id   text        NOT NULL DEFAULT '',
    data           json        NOT NULL,
    UNIQUE (stream, version))`

const plainInsert = `INSERT INTO plain_events (id, stream, version, type, schema_version, time, actor,
        correlation_id, causation_id, data)
    SELECT u.id, $1, $2 + u.ord, u.type, u.schema_version, u.time, u.actor, u.correlation_id, u.causation_id, u.data
    FROM unnest($3::text[], $4::text[], $5::integer[], $6::timestamptz[], $7::jsonb[], $8::text[], $9::text[], $10::json[])
         WITH ORDINALITY AS u(id, type, schema_version, time, actor, correlation_id, causation_id, data, ord)`

// BenchmarkPlainInsert is the baseline: what the same rows cost written
// with the plainest INSERT, on a pool of the same size.
func BenchmarkPlainInsert(b *testing.B) {
	for _, sh := range benchShapes {
		b.Run(fmt.Sprintf("batch=%d/writers=%d", sh.batch, sh.writers), func(b *testing.B) {
			dsn := pgtest.Require(b)
			schema := pgtest.Schema(b, dsn, "es_test_")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cfg, err := pgxpool.ParseConfig(dsn)
			if err != nil {
				b.Fatal(err)
			}
			cfg.MaxConns = int32(sh.writers)
			cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
			pool, err := pgxpool.NewWithConfig(ctx, cfg)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(pool.Close)
			if _, err := pool.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize()+`; `+plainTable); err != nil {
				b.Fatal(err)
			}
			cols := make([]plainColumns, sh.writers)
			for w := range cols {
				cols[w] = newPlainColumns(sh.batch)
			}
			var ids atomic.Int64
			runWriters(b, sh.writers, sh.batch, func(ctx context.Context, w int, stream string, version int64) error {
				c := cols[w]
				for i := range c.ids {
					c.ids[i] = fmt.Sprintf("plain-%d", ids.Add(1)) // the store's IDs are generated client-side too
				}
				_, err := pool.Exec(ctx, plainInsert, stream, version,
					c.ids, c.types, c.schemaVersions, c.times, c.actors, c.correlationIDs, c.causationIDs, c.data)
				return err
			})
		})
	}
}

type plainColumns struct {
	ids, types, actors, correlationIDs, causationIDs []string
	schemaVersions                                   []int32
	times                                            []time.Time
	data                                             []json.RawMessage
}

func newPlainColumns(n int) plainColumns {
	e := benchEvent()
	actor, _ := json.Marshal(e.Actor)
	c := plainColumns{
		ids: make([]string, n), types: make([]string, n), actors: make([]string, n),
		correlationIDs: make([]string, n), causationIDs: make([]string, n),
		schemaVersions: make([]int32, n), times: make([]time.Time, n), data: make([]json.RawMessage, n),
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	for i := range n {
		c.types[i], c.actors[i], c.correlationIDs[i] = e.Type, string(actor), e.CorrelationID
		c.schemaVersions[i], c.times[i], c.data[i] = int32(e.SchemaVersion), now, e.Data
	}
	return c
}
