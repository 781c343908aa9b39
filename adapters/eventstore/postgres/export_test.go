package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgconn"
)

// UseAppendFunction makes s append through the SQL function fn, which takes
// append_events' arguments and returns its columns.
func UseAppendFunction(s *Store, fn string) { s.sqlAppend = appendSQL(fn) }

// ExecForTest runs sql (several statements allowed) in the store's schema.
func (s *Store) ExecForTest(ctx context.Context, sql string) (pgconn.CommandTag, error) {
	return s.pool.Exec(ctx, sql)
}
