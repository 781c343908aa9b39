package pgmigrate

import (
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	file := func(body string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(body)} }
	cases := []struct {
		name      string
		files     fstest.MapFS
		wantNames []string // nil: an error is expected
	}{
		{"sorted by number", fstest.MapFS{
			"migrations/0002_b.sql": file("B"), "migrations/1_z.sql": file("A"), "migrations/0003_a.sql": file("C"),
		}, []string{"1_z", "0002_b", "0003_a"}},
		{"other files and folders ignored", fstest.MapFS{
			"migrations/0001_a.sql": file("A"), "migrations/README.md": file("x"), "other/0002_b.sql": file("B"),
		}, []string{"0001_a"}},
		{"none", fstest.MapFS{"migrations/README.md": file("x")}, []string{}},
		{"gap", fstest.MapFS{"migrations/0001_a.sql": file("A"), "migrations/0003_c.sql": file("C")}, nil},
		{"not from 1", fstest.MapFS{"migrations/0002_b.sql": file("B")}, nil},
		{"duplicate number", fstest.MapFS{"migrations/0001_a.sql": file("A"), "migrations/1_b.sql": file("B")}, nil},
		{"no number", fstest.MapFS{"migrations/init.sql": file("A")}, nil},
		{"zero", fstest.MapFS{"migrations/0000_a.sql": file("A")}, nil},
		{"negative", fstest.MapFS{"migrations/-1_a.sql": file("A")}, nil},
		{"not a number", fstest.MapFS{"migrations/x1_a.sql": file("A")}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Load(c.files, "migrations")
			if c.wantNames == nil {
				if err == nil {
					t.Fatalf("loaded %+v, want an error", got)
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
				if m.Name != c.wantNames[i] || m.Version != i+1 || m.SQL != string(c.files["migrations/"+m.Name+".sql"].Data) {
					t.Errorf("migration %d = %+v, want %s (version %d) with its file's text", i, m, c.wantNames[i], i+1)
				}
			}
		})
	}
}
