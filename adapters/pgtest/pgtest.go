// Package pgtest is test support for packages whose tests need a PostgreSQL
// server: where to find it, skip-or-fail when it is not there, and a
// throwaway schema per test. It is not under internal/ because projections
// and cmd tests use it too.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultDSN is the machine's PostgreSQL (see .ci/run).
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// EnvDSN names the variable that overrides DefaultDSN.
const EnvDSN = "OCTAVIA_ES_TEST_POSTGRES"

// DSN is the test server's DSN: EnvDSN if set, else DefaultDSN.
func DSN() string {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		return dsn
	}
	return DefaultDSN
}

// Require returns DSN once a connection to it succeeds within 3 s. Without
// a server the test is skipped, except under CI (CI=true), where a missing
// PostgreSQL must fail rather than pass silently.
func Require(t testing.TB) string {
	t.Helper()
	dsn := DSN()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL unreachable (CI=true, so not skipping): %v", err)
		}
		t.Skipf("no PostgreSQL at %s (set %s): %v", dsn, EnvDSN, err)
	}
	_ = conn.Close(ctx)
	return dsn
}

// Schema names a schema for this test only: prefix and a random suffix, so
// parallel tests and runs never meet. At cleanup it drops that schema and
// schema+s for each s in also (e.g. "_read_model"), CASCADE, on a connection
// of its own (the test's may be closed by then). Call it before opening
// stores on the schema: cleanups run last registered first, so the drop
// comes after they close.
func Schema(t testing.TB, dsn, prefix string, also ...string) string {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := prefix + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer func() { _ = conn.Close(ctx) }()
		for _, s := range append([]string{schema}, suffixed(schema, also)...) {
			if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{s}.Sanitize()+` CASCADE`); err != nil {
				t.Errorf("drop schema %s: %v", s, err)
			}
		}
	})
	return schema
}

func suffixed(schema string, suffixes []string) []string {
	out := make([]string, len(suffixes))
	for i, s := range suffixes {
		out[i] = schema + s
	}
	return out
}
