package pgledger

import (
	"testing"

	"github.com/octavia-es/octavia-es/adapters/internal/pgmigrate"
)

// TestMigrationPlan: what existing databases hold and older builds lock on
// (pgmigrate's TestLockKey pins the key of this purpose) stays; the
// embedded files load. Migrate is tested in ledger_test.go.
func TestMigrationPlan(t *testing.T) {
	plan := [2]string{migrationsTable, migrateLockPurpose}
	if want := [2]string{"vip_ledger_migrations", "octavia-es/network/pgledger/migrate"}; plan != want {
		t.Errorf("records table and lock purpose %q, want %q", plan, want)
	}
	migs, err := pgmigrate.Load(migrationFiles, "migrations")
	if err != nil || len(migs) == 0 || migs[0].Name != "0001_vip_allocations" {
		t.Fatalf("embedded migrations %+v, %v: want 0001_vip_allocations first", migs, err)
	}
}
