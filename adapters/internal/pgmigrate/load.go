// Package pgmigrate applies numbered SQL files to one PostgreSQL schema, the
// way the event store and the VIP ledger both migrate theirs: the pending
// files in one transaction under a transaction-scoped advisory lock, each
// recorded in a table of the caller's naming.
package pgmigrate

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one numbered file (NNNN_name.sql).
type Migration struct {
	Version int
	Name    string // the file name without .sql, as recorded
	SQL     string
}

// Load reads dir/*.sql of fsys in version order and checks the numbering is
// 1, 2, 3… with no gap or duplicate.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		if !ok {
			return nil, fmt.Errorf("migration %s: want NNNN_name.sql", base)
		}
		v, err := strconv.Atoi(num)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: bad version number %q", base, num)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: strings.TrimSuffix(base, ".sql"), SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: version %d, want %d (numbers must run 1, 2, 3… without gaps)", m.Name, m.Version, i+1)
		}
	}
	return out, nil
}
