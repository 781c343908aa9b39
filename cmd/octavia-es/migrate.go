package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/octavia-es/octavia-es/adapters/eventstore/postgres"
	"github.com/octavia-es/octavia-es/adapters/eventstore/sqlite"
	"github.com/octavia-es/octavia-es/projections"
)

// migrateCommand creates or upgrades the event store's schema: the
// PostgreSQL one given --postgres-dsn (embedded migrations, under an
// advisory lock, idempotent) with the VIP ledger beside it and the
// read model's schema, else the SQLite one in the data directory.
func migrateCommand(ctx context.Context, args, env []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "YAML configuration file (for data_dir)")
	dataDir := fs.String("data-dir", "", "data directory of the SQLite event store, overrides data_dir")
	dsn := fs.String("postgres-dsn", "", "PostgreSQL event store to migrate (postgres://user@host:5432/db?sslmode=disable)")
	schema := fs.String("postgres-schema", postgres.DefaultSchema, "schema of the PostgreSQL event store")
	rmSchema := fs.String("read-model-schema", "", "schema of the PostgreSQL read model (default <postgres-schema>_read_model; none: do not create one)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "octavia-es migrate: unexpected arguments %v\n", fs.Args())
		return 2
	}
	if *dsn != "" {
		store, err := postgres.Open(ctx, *dsn, postgres.WithSchema(*schema), postgres.WithLogger(slog.New(slog.NewTextHandler(stderr, nil))))
		if err != nil {
			fmt.Fprintf(stderr, "octavia-es migrate: %v\n", err)
			return 1
		}
		defer store.Close()
		if err := store.Migrate(ctx); err != nil {
			fmt.Fprintf(stderr, "octavia-es migrate: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "PostgreSQL event store schema %q is up to date\n", *schema)
		if err := migrateVIPLedger(ctx, *dsn, *schema, store, stdout, stderr); err != nil {
			fmt.Fprintf(stderr, "octavia-es migrate: %v\n", err)
			return 1
		}
		if *rmSchema == "none" {
			return 0
		}
		if *rmSchema == "" {
			*rmSchema = *schema + "_read_model"
		}
		// Any process creates it at start too (derived data); here the
		// operator sees it done, and a bad name fails before the processes.
		rm, err := projections.OpenPostgres(ctx, projections.PostgresConfig{DSN: *dsn, Schema: *rmSchema})
		if err != nil {
			fmt.Fprintf(stderr, "octavia-es migrate: read model: %v\n", err)
			return 1
		}
		_ = rm.Close()
		fmt.Fprintf(stdout, "PostgreSQL read model schema %q is up to date\n", *rmSchema)
		return 0
	}
	cfg, err := loadConfig(*configPath, env)
	if err != nil {
		fmt.Fprintf(stderr, "octavia-es: invalid configuration:\n%v\n", err)
		return 2
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	path := filepath.Join(cfg.DataDir, "events.db")
	store, err := sqlite.Open(ctx, path) // creates or upgrades its schema
	if err != nil {
		fmt.Fprintf(stderr, "octavia-es migrate: %v\n", err)
		return 1
	}
	if err := store.Close(); err != nil {
		fmt.Fprintf(stderr, "octavia-es migrate: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "SQLite event store %s is up to date\n", absPath(path))
	return 0
}
