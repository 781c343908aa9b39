package projections

import (
	"context"
	"fmt"
	"hash/fnv"
	"regexp"
	"strconv"
	"strings"
)

// dialect is what differs between the two SQL engines a read model lives
// in: SQLite (the embedded default, one file per process) and PostgreSQL
// (one read model shared by every process of a scaled deployment). The
// queries are written once, in the SQL both accept, with ? placeholders;
// the few constructs that differ come from here.
type dialect struct {
	name string
	// schema is the PostgreSQL schema holding the read model (every
	// connection's search_path); "" on SQLite.
	schema string
	// numbered: placeholders are $1, $2, ... (pgx) instead of ?.
	numbered bool
	// collateC: text columns compare bytewise (PostgreSQL's "C"), as
	// SQLite's default BINARY does, so both engines sort names and times
	// alike and the column indexes serve ORDER BY.
	collateC bool
	// lockRows is appended to the reads of a write transaction that must
	// keep the rows they read from changing until it commits (PostgreSQL:
	// FOR UPDATE). SQLite's write transactions take the file's write lock
	// at BEGIN (IMMEDIATE), which does that already.
	lockRows string
}

var sqliteDialect = &dialect{name: "sqlite"}

func newPostgresDialect(schema string) *dialect {
	return &dialect{name: "postgres", schema: schema, numbered: true, collateC: true, lockRows: " FOR UPDATE"}
}

// rebind turns ? placeholders into $n for PostgreSQL. Every query of the
// read model is this package's own text, with no ? inside a string
// literal; quoted spans are skipped anyway.
func (d *dialect) rebind(q string) string {
	if !d.numbered || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n, quoted := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '?' && !quoted:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

var textColumn = regexp.MustCompile(`\bTEXT\b`)

// ddl adapts a CREATE TABLE written for SQLite: text columns get the C
// collation on PostgreSQL.
func (d *dialect) ddl(stmt string) string {
	if !d.collateC {
		return stmt
	}
	return textColumn.ReplaceAllString(stmt, `TEXT COLLATE "C"`)
}

// createTable is the CREATE TABLE of t in generation gen. On PostgreSQL
// the tables whose lists filter on fields of the view also keep it parsed
// (docb, jsonb, generated from doc): parsing 10,000 documents per filtered
// list cost more than the rest of the query. doc stays the text served,
// byte for byte (jsonb would reorder its keys).
func (d *dialect) createTable(t table, gen int64) string {
	stmt := d.ddl(createTable(t, gen))
	if d.numbered && t != statusTable {
		stmt = strings.TrimSuffix(strings.TrimSpace(stmt), ")") + ",\n\tdocb jsonb GENERATED ALWAYS AS (doc::jsonb) STORED\n)"
	}
	return stmt
}

// docExpr is the value of a top-level field of the stored view, typed as k
// compares it: SQLite's json_extract already yields numbers and 1/0 for
// booleans; PostgreSQL's ->> yields text, cast here.
func (d *dialect) docExpr(field string, k attrKind) string {
	if !d.numbered {
		return "json_extract(t.doc, '$." + field + "')"
	}
	v := "(t.docb ->> '" + field + "')"
	switch k {
	case kInt:
		return "(" + v + "::bigint)"
	case kFloat:
		return "(" + v + "::double precision)"
	case kBool:
		return "(" + v + "::boolean::int)"
	}
	return v
}

// tagExists opens a condition on one tag of t.tags (a JSON array of
// strings): it is completed with "= ?)" or "IN (...))".
func (d *dialect) tagExists() string {
	if d.numbered {
		return "EXISTS (SELECT 1 FROM jsonb_array_elements_text(t.tags::jsonb) AS j(value) WHERE value "
	}
	return "EXISTS (SELECT 1 FROM json_each(t.tags) WHERE value "
}

// expr is the SQL of attribute a.
func (d *dialect) expr(a attr) string {
	if a.doc != "" {
		return d.docExpr(a.doc, a.kind)
	}
	return a.expr
}

// readVersion is the read model's schema version (0: a new one). SQLite
// keeps it in the file header (user_version); PostgreSQL in a table.
func (d *dialect) readVersion(ctx context.Context, t tx) (int, error) {
	var v int
	if !d.numbered {
		if err := t.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
			return 0, fmt.Errorf("projections: read schema version: %w", err)
		}
		return v, nil
	}
	if _, err := t.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)`); err != nil {
		return 0, fmt.Errorf("projections: read schema version: %w", err)
	}
	err := t.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("projections: read schema version: %w", err)
	}
	return v, nil
}

func (d *dialect) writeVersion(ctx context.Context, t tx, v int) error {
	stmts := []string{fmt.Sprintf(`PRAGMA user_version = %d`, v)}
	if d.numbered {
		stmts = []string{`DELETE FROM schema_version`, fmt.Sprintf(`INSERT INTO schema_version (version) VALUES (%d)`, v)}
	}
	if err := execAll(ctx, t, stmts); err != nil {
		return fmt.Errorf("projections: set schema version: %w", err)
	}
	return nil
}

// listObjects selects (type, name) of every table and view of the read
// model, type being "table" or "view".
func (d *dialect) listObjects() string {
	if d.numbered {
		return `SELECT CASE c.relkind WHEN 'v' THEN 'view' ELSE 'table' END, c.relname
			FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'v', 'p')`
	}
	return `SELECT type, name FROM sqlite_master
		WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`
}

// createViewIfMissing points t's view at generation gen unless it exists.
func (d *dialect) createViewIfMissing(t table, gen int64) string {
	if d.numbered {
		return `CREATE OR REPLACE VIEW ` + t.String() + ` AS SELECT * FROM ` + physical(t, gen)
	}
	return `CREATE VIEW IF NOT EXISTS ` + t.String() + ` AS SELECT * FROM ` + physical(t, gen)
}

// advisoryKey is the PostgreSQL advisory lock of one purpose on one read
// model schema.
func advisoryKey(purpose, schema string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("octavia-es read model " + purpose + " " + schema))
	return int64(h.Sum64())
}

// channel is the PostgreSQL notification channel of checkpoint moves. A
// channel name is an identifier (at most 63 bytes): the schema's hash
// keeps it short whatever the schema's length.
func (d *dialect) channel() string {
	return fmt.Sprintf("octavia_es_read_model_%016x", uint64(advisoryKey("channel", d.schema)))
}
