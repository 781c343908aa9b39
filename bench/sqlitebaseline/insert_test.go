package sqlitebaseline

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	_ "modernc.org/sqlite"
)

// The table mirrors adapters/eventstore/sqlite's events table (same columns,
// same primary key and unique indexes), so the only difference measured is
// what the store does around the INSERT: version check, head read, staging,
// notification.
const schema = `CREATE TABLE events (
	position       INTEGER PRIMARY KEY,
	id             TEXT    NOT NULL UNIQUE,
	stream         TEXT    NOT NULL,
	version        INTEGER NOT NULL,
	type           TEXT    NOT NULL,
	schema_version INTEGER NOT NULL,
	time           TEXT    NOT NULL,
	actor          TEXT    NOT NULL,
	correlation_id TEXT    NOT NULL DEFAULT '',
	causation_id   TEXT    NOT NULL DEFAULT '',
	data           BLOB    NOT NULL,
	UNIQUE (stream, version)
)`

const insert = `INSERT INTO events
	(position, id, stream, version, type, schema_version, time, actor, correlation_id, causation_id, data)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// envInts reads a comma-separated list of positive integers from the
// environment (bench/run.sh sets it to match the event store benchmark).
func envInts(tb testing.TB, name string, def ...int) []int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			tb.Fatalf("%s=%q: want positive integers separated by commas", name, v)
		}
		out = append(out, n)
	}
	return out
}

func open(tb testing.TB) *sql.DB {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "baseline.db")
	db, err := sql.Open("sqlite", "file:"+path+
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		tb.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	tb.Cleanup(func() { _ = db.Close() })
	if _, err := db.Exec(schema); err != nil {
		tb.Fatal(err)
	}
	return db
}

// payload is valid JSON of exactly n bytes (at least 10, its frame).
func payload(n int) []byte {
	const frame = len(`{"pad":""}`)
	if n < frame {
		n = frame
	}
	return []byte(`{"pad":"` + strings.Repeat("x", n-frame) + `"}`)
}

// Row metadata shaped like the event store benchmark's envelopes.
const (
	benchType  = "ListenerCreateRequested"
	benchActor = `{"project_id":"e3cd678b11784734bc366148aa37580e","request_id":"req-9b1c2f"}`
	benchCorr  = "req-9b1c2f"
	streams    = 64 // appended to in turn, as BenchmarkAppend does
)

// BenchmarkPlainInsert runs one sub-benchmark per entry of BENCH_ROWS_PER_TX
// (default "1,10") and per kind of id: each op is one transaction of that
// many INSERTs of BENCH_PAYLOAD_BYTES bytes of data (default 167,
// BenchmarkAppend's payload). Like a store append it generates a UUID per row
// (the id column is uniquely indexed, so time-ordered v7 ids, the store's
// own, insert at the end of the index, random v4 ids anywhere: a cost worth
// matching) and spreads rows over 64 streams; unlike it, it reads nothing,
// checks nothing and encodes nothing. It reports rows/s.
func BenchmarkPlainInsert(b *testing.B) {
	size := envInts(b, "BENCH_PAYLOAD_BYTES", 167)[0]
	for _, perTx := range envInts(b, "BENCH_ROWS_PER_TX", 1, 10) {
		for _, ids := range []struct {
			name string
			new  func() (uuid.UUID, error)
		}{{"v7", uuid.NewV7}, {"v4", uuid.NewRandom}} {
			b.Run(fmt.Sprintf("rows=%d/ids=%s", perTx, ids.name), func(b *testing.B) {
				benchInsert(b, perTx, size, ids.new)
			})
		}
	}
}

func benchInsert(b *testing.B, perTx, size int, newID func() (uuid.UUID, error)) {
	db := open(b)
	ctx := context.Background()
	stmt, err := db.PrepareContext(ctx, insert)
	if err != nil {
		b.Fatal(err)
	}
	defer stmt.Close()
	data := payload(size)
	var versions [streams]int

	pos := 0
	for i := 0; b.Loop(); i++ {
		ts := time.Now().UTC().Format(time.RFC3339Nano)
		k := i % streams
		stream := "loadbalancer-" + strconv.Itoa(k)
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		st := tx.StmtContext(ctx, stmt)
		for range perTx {
			pos++
			versions[k]++
			id, err := newID()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := st.ExecContext(ctx, pos, id.String(), stream, versions[k],
				benchType, 1, ts, benchActor, benchCorr, "", data); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(pos)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(size), "payload_bytes")
}

// TestPlainInsertStores checks the baseline really writes what it claims,
// so a broken baseline can't inflate the ratio printed beside it.
func TestPlainInsertStores(t *testing.T) {
	for _, tc := range []struct{ size, rows int }{{10, 1}, {512, 3}, {4096, 2}} {
		t.Run(fmt.Sprintf("size=%d,rows=%d", tc.size, tc.rows), func(t *testing.T) {
			db := open(t)
			for i := 1; i <= tc.rows; i++ {
				if _, err := db.Exec(insert, i, "ev-"+strconv.Itoa(i), "s", i, "T", 1, "t", "{}", "", "", payload(tc.size)); err != nil {
					t.Fatal(err)
				}
			}
			var n, length int
			if err := db.QueryRow(`SELECT COUNT(*), MAX(LENGTH(data)) FROM events`).Scan(&n, &length); err != nil {
				t.Fatal(err)
			}
			if n != tc.rows || length != tc.size {
				t.Fatalf("stored %d rows of %d bytes, want %d of %d", n, length, tc.rows, tc.size)
			}
		})
	}
}
