package postgres

import (
	"testing"

	"github.com/octavia-es/octavia-es/adapters/internal/pgmigrate"
)

// TestMigrationPlan: the records table and the lock purpose are what
// existing databases hold and older builds lock on (pgmigrate's TestLockKey
// pins the key of this purpose); the embedded files load. The runner
// itself is tested in adapters/internal/pgmigrate, Migrate in TestMigrate.
func TestMigrationPlan(t *testing.T) {
	if migrationsTable != "schema_migrations" || migrateLockPurpose != "octavia-es/eventstore/migrate" {
		t.Errorf("records table %q, lock purpose %q: changed under existing databases", migrationsTable, migrateLockPurpose)
	}
	if migs, err := pgmigrate.Load(migrationFiles, "migrations"); err != nil || len(migs) < 3 {
		t.Fatalf("embedded migrations: %d, %v", len(migs), err)
	}
}
