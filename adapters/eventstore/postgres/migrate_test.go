package postgres

import (
	"testing"
	"testing/fstest"
)

func TestLoadMigrations(t *testing.T) {
	file := func(body string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(body)} }
	cases := []struct {
		name      string
		files     fstest.MapFS
		wantNames []string // nil: an error is expected
	}{
		{"sorted by number", fstest.MapFS{
			"migrations/0002_b.sql": file("B"), "migrations/1_z.sql": file("A"), "migrations/0003_a.sql": file("C"),
		}, []string{"1_z", "0002_b", "0003_a"}},
		{"gap", fstest.MapFS{"migrations/0001_a.sql": file("A"), "migrations/0003_c.sql": file("C")}, nil},
		{"duplicate number", fstest.MapFS{"migrations/0001_a.sql": file("A"), "migrations/1_b.sql": file("B")}, nil},
		{"no number", fstest.MapFS{"migrations/init.sql": file("A")}, nil},
		{"zero", fstest.MapFS{"migrations/0000_a.sql": file("A")}, nil},
		{"not a number", fstest.MapFS{"migrations/x1_a.sql": file("A")}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := loadMigrations(c.files)
			if c.wantNames == nil {
				if err == nil {
					t.Fatalf("loaded %v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.wantNames) {
				t.Fatalf("loaded %d migrations, want %d", len(got), len(c.wantNames))
			}
			for i, m := range got {
				if m.name != c.wantNames[i] || m.version != i+1 {
					t.Errorf("migration %d = %s (version %d), want %s (version %d)", i, m.name, m.version, c.wantNames[i], i+1)
				}
			}
		})
	}

	// The embedded files themselves.
	if got, err := loadMigrations(migrationFiles); err != nil || len(got) < 2 {
		t.Fatalf("embedded migrations: %d, %v", len(got), err)
	}
}
