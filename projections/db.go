package projections

import (
	"context"
	"database/sql"
)

// db is a connection pool of the read model whose queries are written with
// ? placeholders and rebound for its dialect.
type db struct {
	*sql.DB
	d *dialect
}

func (c db) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return c.DB.ExecContext(ctx, c.d.rebind(q), args...)
}

func (c db) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return c.DB.QueryContext(ctx, c.d.rebind(q), args...)
}

func (c db) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return c.DB.QueryRowContext(ctx, c.d.rebind(q), args...)
}

func (c db) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	return c.DB.PrepareContext(ctx, c.d.rebind(q))
}

func (c db) BeginTx(ctx context.Context, opts *sql.TxOptions) (tx, error) {
	t, err := c.DB.BeginTx(ctx, opts)
	return tx{t, c.d}, err
}

// tx is a transaction of a db, rebinding as its db does.
type tx struct {
	*sql.Tx
	d *dialect
}

func (t tx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(ctx, t.d.rebind(q), args...)
}

func (t tx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(ctx, t.d.rebind(q), args...)
}

func (t tx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(ctx, t.d.rebind(q), args...)
}
