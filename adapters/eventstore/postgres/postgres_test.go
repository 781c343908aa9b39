package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/adapters/eventstore/eventstoretest"
	"github.com/octavia-es/octavia-es/adapters/eventstore/postgres"
)

// defaultDSN is the machine's PostgreSQL (see .ci/run); OCTAVIA_ES_TEST_POSTGRES
// overrides it. Every test works in a schema of its own, dropped at cleanup.
const defaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func TestConformance(t *testing.T) {
	eventstoretest.Run(t, func(t *testing.T) eventstore.Store { return openFresh(t, postgres.WithMaxConns(16)) })
}

func testDSN() string {
	if dsn := os.Getenv("OCTAVIA_ES_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return defaultDSN
}

// requireServer returns the DSN of a reachable server. Without one the test
// is skipped, except under CI (CI=true), where PostgreSQL must be there.
func requireServer(t testing.TB) string {
	t.Helper()
	dsn := testDSN()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL unreachable (CI=true, so not skipping): %v", err)
		}
		t.Skipf("no PostgreSQL at %s (set OCTAVIA_ES_TEST_POSTGRES): %v", dsn, err)
	}
	_ = conn.Close(ctx)
	return dsn
}

// newSchema names a schema for this test only and drops it at cleanup
// (registered first, so it runs after the store is closed).
func newSchema(t testing.TB, dsn string) string {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "es_test_" + hex.EncodeToString(b)
	t.Cleanup(func() { dropSchema(t, dsn, schema) })
	return schema
}

func dropSchema(t testing.TB, dsn, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Errorf("drop schema %s: %v", schema, err)
		return
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
		t.Errorf("drop schema %s: %v", schema, err)
	}
}

// openFresh opens a migrated store in a new schema; the suite closes it.
func openFresh(t testing.TB, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	dsn := requireServer(t)
	schema := newSchema(t, dsn)
	return open(t, dsn, append([]postgres.Option{postgres.WithSchema(schema), postgres.WithMigrate()}, opts...)...)
}

func open(t testing.TB, dsn string, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts = append([]postgres.Option{postgres.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	s, err := postgres.Open(ctx, dsn, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func closeOnCleanup(t testing.TB, s *postgres.Store) {
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}
