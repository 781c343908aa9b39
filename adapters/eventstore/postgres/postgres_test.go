package postgres_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/adapters/eventstore/eventstoretest"
	"github.com/octavia-es/octavia-es/adapters/eventstore/postgres"
	"github.com/octavia-es/octavia-es/adapters/pgtest"
)

// Every test works in a schema of its own (pgtest.Schema, prefix es_test_).
func TestConformance(t *testing.T) {
	eventstoretest.Run(t, func(t *testing.T) eventstore.Store { return openFresh(t, postgres.WithMaxConns(16)) })
}

// openFresh opens a migrated store in a new schema; the suite closes it.
func openFresh(t testing.TB, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	dsn := pgtest.Require(t)
	schema := pgtest.Schema(t, dsn, "es_test_")
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
