package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"time"

	"github.com/jackc/pgx/v5"
)

// Read model drivers as the binary's read_model.driver names them, and as
// the tables print them.
const (
	rmSQLite   = "SQLite"
	rmPostgres = "PostgreSQL"
)

// readModelEnv selects the read model of a server on the PostgreSQL store
// (read_model.driver; auto would pick PostgreSQL there).
func readModelEnv(readModel string) string {
	if readModel == rmPostgres {
		return "OCTAVIA_ES_READ_MODEL_DRIVER=postgres"
	}
	return "OCTAVIA_ES_READ_MODEL_DRIVER=sqlite"
}

// apiProcessEnv is what `octavia-es api` needs beside serve on the
// PostgreSQL store: it opens no bus (it has no worker role), but the
// configuration check refuses the in-process one for a process that runs
// beside others, so it names the PostgreSQL transport.
func apiProcessEnv(dsn string) []string {
	return []string{"OCTAVIA_ES_BUS_TRANSPORT=postgres", "OCTAVIA_ES_BUS_URL=" + dsn}
}

// projectorLeaseLog is what a process logs when its projector takes the
// PostgreSQL read model's lease (bus.RunLeased).
const projectorLeaseLog = "projector: lease acquired"

// postgresStoreEnv migrates a throwaway event store schema named
// prefix+random and returns the server environment that selects it, its
// read model schema (<schema>_read_model, named explicitly) included;
// cleanup drops both. skipped is set when PostgreSQL does not answer.
func postgresStoreEnv(ctx context.Context, o options, prefix string, log *slog.Logger) (env []string, cleanup func(), skipped string, err error) {
	cleanup = func() {}
	if err := reachable(ctx, o.postgresDSN); err != nil {
		return nil, cleanup, "PostgreSQL unreachable: " + err.Error(), nil
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := prefix + hex.EncodeToString(b)
	rmSchema := schema + "_read_model"
	cleanup = func() { dropSchemas(ctx, o.postgresDSN, log, schema, rmSchema) }
	mctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(mctx, o.bin, "migrate", "--postgres-dsn", o.postgresDSN, "--postgres-schema", schema).CombinedOutput()
	if err != nil {
		return nil, cleanup, "", fmt.Errorf("migrate: %w: %s", err, firstLine(string(out)))
	}
	return []string{
		"OCTAVIA_ES_STORE_DRIVER=postgres",
		"OCTAVIA_ES_STORE_POSTGRES_DSN=" + o.postgresDSN,
		"OCTAVIA_ES_STORE_POSTGRES_SCHEMA=" + schema,
		"OCTAVIA_ES_READ_MODEL_POSTGRES_SCHEMA=" + rmSchema,
	}, cleanup, "", nil
}

// dropSchemas drops the benchmark's throwaway schemas, even when ctx has
// ended (an interrupted run cleans up too).
func dropSchemas(ctx context.Context, dsn string, log *slog.Logger, schemas ...string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(dctx, dsn)
	if err != nil {
		log.Warn("drop the benchmark's schemas", "schemas", schemas, "err", err)
		return
	}
	defer conn.Close(dctx)
	for _, s := range schemas {
		if _, err := conn.Exec(dctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{s}.Sanitize()+` CASCADE`); err != nil {
			log.Warn("drop the benchmark's schema", "schema", s, "err", err)
		}
	}
}

// logContains reports whether the file at path holds s (a server's log).
func logContains(path, s string) bool {
	b, err := os.ReadFile(path)
	return err == nil && bytes.Contains(b, []byte(s))
}

// waitLog waits until the file at path holds s, at most within.
func waitLog(ctx context.Context, path, s string, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for !logContains(path, s) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
