package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/octavia-es/octavia-es/events"
)

// UseAppendFunction makes s append through the SQL function fn, which takes
// append_group's arguments and returns its columns. Call before appending.
func UseAppendFunction(s *Store, fn string) { s.writer.sql = appendSQL(fn) }

// SetGroupAppends caps how many appends s sends in one transaction (1: a
// transaction per append). Call before appending.
func SetGroupAppends(s *Store, n int) { s.writer.maxAppend = n }

// MigrateTo applies the migrations up to version only, as an older build
// would have left the schema.
func MigrateTo(ctx context.Context, s *Store, version int) error { return s.migrateTo(ctx, version) }

// ExecForTest runs sql (several statements allowed) in the store's schema.
func (s *Store) ExecForTest(ctx context.Context, sql string) (pgconn.CommandTag, error) {
	return s.pool.Exec(ctx, sql)
}

// GroupAppend is one append of a group sent by AppendGroup.
type GroupAppend struct {
	Stream   string
	Expected int64
	Events   []events.Envelope
}

// GroupResult is what Append would have returned for one GroupAppend.
type GroupResult struct {
	Events []events.Envelope
	Err    error
}

// AppendGroup sends apps as one group, as the writer does with appends that
// queued together, and returns each one's outcome.
func AppendGroup(ctx context.Context, s *Store, apps []GroupAppend) ([]GroupResult, error) {
	reqs := make([]*appendReq, len(apps))
	outs := make([][]events.Envelope, len(apps))
	for i, a := range apps {
		out, cols, err := stage(a.Stream, a.Events)
		if err != nil {
			return nil, err
		}
		reqs[i], outs[i] = newAppendReq(ctx, a.Stream, a.Expected, cols), out
	}
	s.writer.write(ctx, reqs)
	results := make([]GroupResult, len(apps))
	for i, r := range reqs {
		results[i].Events, results[i].Err = finish(r, outs[i], <-r.res)
	}
	return results, nil
}
