package pgtest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/octavia-es/octavia-es/adapters/pgtest"
)

func TestDSN(t *testing.T) {
	for _, c := range []struct{ env, want string }{
		{"", pgtest.DefaultDSN},
		{"postgres://other@db:5432/x", "postgres://other@db:5432/x"},
	} {
		t.Setenv(pgtest.EnvDSN, c.env)
		if got := pgtest.DSN(); got != c.want {
			t.Errorf("%s=%q: DSN() = %q, want %q", pgtest.EnvDSN, c.env, got, c.want)
		}
	}
}

// TestSchemaDroppedAtCleanup: the schema and its suffixed companions exist
// while the test runs (created here) and are gone once its cleanups ran.
func TestSchemaDroppedAtCleanup(t *testing.T) {
	dsn := pgtest.Require(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	count := func(t *testing.T, names []string) int {
		t.Helper()
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname = ANY($1)`, names).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var names []string
	t.Run("inner", func(t *testing.T) {
		schema := pgtest.Schema(t, dsn, "pgtest_", "_read_model", "_other")
		if !strings.HasPrefix(schema, "pgtest_") || schema == "pgtest_" {
			t.Fatalf("schema %q: want the prefix and a suffix", schema)
		}
		if other := pgtest.Schema(t, dsn, "pgtest_"); other == schema {
			t.Fatalf("two schemas named %q", schema)
		}
		names = []string{schema, schema + "_read_model", schema + "_other"}
		for _, s := range names {
			if _, err := conn.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{s}.Sanitize()); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := conn.Exec(ctx, `CREATE TABLE `+pgx.Identifier{schema, "t"}.Sanitize()+` (n int)`); err != nil {
			t.Fatal(err)
		}
		if n := count(t, names); n != len(names) {
			t.Fatalf("%d of %v exist, want all", n, names)
		}
	})
	if n := count(t, names); n != 0 {
		t.Fatalf("%d of %v left after cleanup, want none", n, names)
	}
}
