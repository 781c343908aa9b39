package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"
	"strings"
)

// targets names the physical table each table's rows go to; "" = the
// table is not written (a replay of other projections).
type targets [lastTable + 1]string

// targetsOf is every table in the generations gens.
func targetsOf(gens generations) targets {
	var t targets
	for tb := table(0); tb <= lastTable; tb++ {
		t[tb] = physical(tb, gens.of(tb))
	}
	return t
}

// writeStmts are prepared once on a sink's single connection; each
// transaction binds them with tx.StmtContext. A nil statement is a table
// the sink does not write.
type writeStmts struct {
	upsert      [lastTable + 1]*sql.Stmt
	deleteRow   [lastTable + 1]*sql.Stmt
	deleteGraph [lastTable + 1]*sql.Stmt
	checkpoint  *sql.Stmt // the projector's and a replay's switch (PostgreSQL: with its notification)
	// arrays: the statements take one array per column and write every
	// row of a flush at once (PostgreSQL, see rowBatch); else one row each.
	arrays bool
}

// rowsIn is the row source of an upsert of n columns: one row of
// placeholders, or (arrays) the rows of n text arrays zipped by unnest.
func (w *writeStmts) rowsIn(n int) string {
	if !w.arrays {
		return "VALUES (" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
	}
	return "SELECT * FROM unnest(" + strings.TrimSuffix(strings.Repeat("?::text[], ", n), ", ") + ")"
}

// match is the condition selecting rows by col: one value, or any of an
// array's (arrays).
func (w *writeStmts) match(col string) string {
	if !w.arrays {
		return col + " = ?"
	}
	return col + " = ANY(?::text[])"
}

func (w *writeStmts) prepare(ctx context.Context, c db, to targets) error {
	w.arrays = c.d.numbered
	prep := func(dst **sql.Stmt, q string) error {
		s, err := c.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("projections: prepare %q: %w", firstLine(q), err)
		}
		*dst = s
		return nil
	}
	for t := tLoadBalancers; t < statusTable; t++ {
		name := to[t]
		if name == "" {
			continue
		}
		if err := prep(&w.upsert[t], `INSERT INTO `+name+`
			(id, project_id, loadbalancer_id, pool_id, name, provisioning_status, operating_status, created_at, updated_at, tags, doc)
			`+w.rowsIn(11)+`
			ON CONFLICT (id) DO UPDATE SET
			project_id = excluded.project_id, loadbalancer_id = excluded.loadbalancer_id,
			pool_id = excluded.pool_id, name = excluded.name,
			provisioning_status = excluded.provisioning_status, operating_status = excluded.operating_status,
			created_at = excluded.created_at, updated_at = excluded.updated_at, tags = excluded.tags, doc = excluded.doc`); err != nil {
			return err
		}
		if err := prep(&w.deleteRow[t], `DELETE FROM `+name+` WHERE `+w.match("id")); err != nil {
			return err
		}
		if err := prep(&w.deleteGraph[t], `DELETE FROM `+name+` WHERE `+w.match("loadbalancer_id")); err != nil {
			return err
		}
	}
	if name := to[statusTable]; name != "" {
		if err := prep(&w.upsert[statusTable], `INSERT INTO `+name+` (loadbalancer_id, doc) `+w.rowsIn(2)+`
			ON CONFLICT (loadbalancer_id) DO UPDATE SET doc = excluded.doc`); err != nil {
			return err
		}
		if err := prep(&w.deleteRow[statusTable], `DELETE FROM `+name+` WHERE `+w.match("loadbalancer_id")); err != nil {
			return err
		}
		w.deleteGraph[statusTable] = w.deleteRow[statusTable]
	}
	if name := to[tAmphorae]; name != "" {
		if err := prep(&w.upsert[tAmphorae], `INSERT INTO `+name+`
			(id, project_id, loadbalancer_id, compute_id, role, status, lb_network_ip,
			compute_driver, network_driver, amphora_driver, created_at, updated_at, doc)
			`+w.rowsIn(13)+`
			ON CONFLICT (id) DO UPDATE SET
			project_id = excluded.project_id, loadbalancer_id = excluded.loadbalancer_id,
			compute_id = excluded.compute_id, role = excluded.role, status = excluded.status,
			lb_network_ip = excluded.lb_network_ip, compute_driver = excluded.compute_driver,
			network_driver = excluded.network_driver, amphora_driver = excluded.amphora_driver,
			created_at = excluded.created_at, updated_at = excluded.updated_at, doc = excluded.doc`); err != nil {
			return err
		}
		if err := prep(&w.deleteRow[tAmphorae], `DELETE FROM `+name+` WHERE `+w.match("id")); err != nil {
			return err
		}
		if err := prep(&w.deleteGraph[tAmphorae], `DELETE FROM `+name+` WHERE `+w.match("loadbalancer_id")); err != nil {
			return err
		}
	}
	if c.d.numbered { // and tell the other processes, in the same round trip
		return prep(&w.checkpoint, `WITH c AS (INSERT INTO checkpoint (name, position) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET position = excluded.position RETURNING position)
			SELECT pg_notify(?, position::text) FROM c`)
	}
	return prep(&w.checkpoint, `INSERT INTO checkpoint (name, position) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET position = excluded.position`)
}

func (w *writeStmts) close() error {
	var errs []error
	seen := map[*sql.Stmt]bool{}
	all := append(append(append([]*sql.Stmt{w.checkpoint}, w.upsert[:]...), w.deleteRow[:]...), w.deleteGraph[:]...)
	for _, s := range all {
		if s != nil && !seen[s] {
			seen[s] = true
			errs = append(errs, s.Close())
		}
	}
	*w = writeStmts{}
	return errors.Join(errs...)
}

// sink is where a projector writes rows: one connection on SQLite (it has
// one writer), the pool on PostgreSQL, and the statements of the tables it
// writes.
type sink struct {
	db    db
	stmts writeStmts
	// seed keys the row sums of the graphs written through this sink.
	seed maphash.Seed
}

// writeTx is one write transaction of a sink.
type writeTx struct {
	ctx   context.Context
	tx    tx
	stmts *writeStmts
	seed  maphash.Seed
	batch *rowBatch // the writes not sent yet (arrays statements only)
}

func (s *sink) begin(ctx context.Context) (*writeTx, error) {
	t, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("projections: begin: %w", err)
	}
	w := &writeTx{ctx: ctx, tx: t, stmts: &s.stmts, seed: s.seed}
	if s.stmts.arrays {
		w.batch = newRowBatch()
	}
	return w, nil
}

func (w *writeTx) exec(s *sql.Stmt, args ...any) error {
	_, err := w.tx.StmtContext(w.ctx, s).ExecContext(w.ctx, args...)
	return err
}

// writeGraph brings the rows of graph lbID from prev (the sums of what is
// stored; nil when unknown) to next, in the tables this sink writes: rows
// that vanished are deleted, changed ones upserted. With prev unknown every
// row of the graph is replaced. It returns the sums of next, the graph's
// prev for its next write. On PostgreSQL the writes wait in the batch for
// flush (a graph at most once per flush).
func (w *writeTx) writeGraph(lbID string, prev map[rowKey]uint64, next map[rowKey]row) (map[rowKey]uint64, error) {
	if w.batch != nil {
		if w.batch.graphs[lbID] { // its earlier writes go first
			if err := w.flush(); err != nil {
				return nil, err
			}
		}
		w.batch.graphs[lbID] = true
	}
	if prev == nil {
		for t := tLoadBalancers; t <= lastTable; t++ {
			if w.stmts.deleteGraph[t] == nil {
				continue
			}
			if err := w.deleteGraph(t, lbID); err != nil {
				return nil, fmt.Errorf("projections: clear %s of %s: %w", t, lbID, err)
			}
		}
	}
	for k := range prev {
		if _, ok := next[k]; ok || w.stmts.deleteRow[k.table] == nil {
			continue
		}
		if err := w.deleteRow(k); err != nil {
			return nil, fmt.Errorf("projections: delete %s %s: %w", k.table, k.id, err)
		}
	}
	sums := make(map[rowKey]uint64, len(next))
	for k, r := range next {
		sum := r.sum(w.seed)
		sums[k] = sum
		if old, ok := prev[k]; ok && old == sum {
			continue
		}
		if w.stmts.upsert[k.table] == nil {
			continue
		}
		if err := w.upsert(k, r); err != nil {
			return nil, fmt.Errorf("projections: write %s %s: %w", k.table, k.id, err)
		}
	}
	return sums, nil
}

func (w *writeTx) deleteGraph(t table, lbID string) error {
	if w.batch != nil {
		w.batch.graphDeletes[t] = append(w.batch.graphDeletes[t], lbID)
		return nil
	}
	return w.exec(w.stmts.deleteGraph[t], lbID)
}

func (w *writeTx) deleteRow(k rowKey) error {
	if w.batch != nil {
		w.batch.rowDeletes[k.table] = append(w.batch.rowDeletes[k.table], k.id)
		return nil
	}
	return w.exec(w.stmts.deleteRow[k.table], k.id)
}

func (w *writeTx) upsert(k rowKey, r row) error {
	if w.batch != nil {
		w.batch.upserts[k.table] = append(w.batch.upserts[k.table], keyedRow{k.id, r})
		return nil
	}
	return w.exec(w.stmts.upsert[k.table], upsertArgs(k.table, k.id, r)...)
}

// upsertArgs are the values of an upsert of row r (id k) of table t, in
// its statement's column order.
func upsertArgs(t table, id string, r row) []any {
	switch t {
	case statusTable:
		return []any{id, r.doc}
	case tAmphorae:
		a := r.amp
		return []any{id, r.projectID, r.loadBalancerID, a.computeID, nullable(a.role), r.provisioning,
			nullable(a.lbNetworkIP), a.computeDriver, a.networkDriver, a.amphoraDriver, r.createdAt, r.updatedAt, r.doc}
	}
	return []any{id, r.projectID, r.loadBalancerID, r.poolID, r.name, r.provisioning, r.operating,
		r.createdAt, r.updatedAt, r.tags, r.doc}
}

// keyedRow is a row waiting in a rowBatch.
type keyedRow struct {
	id  string
	row row
}

// rowBatch holds the row writes of a PostgreSQL transaction until flush
// sends them, one statement per table and kind of write whatever the
// number of rows: on a database over the network a statement costs a round
// trip, and catching up row by row was bound by them, not by the rows.
type rowBatch struct {
	graphs       map[string]bool // written into this batch: a second write flushes first
	graphDeletes [lastTable + 1][]string
	rowDeletes   [lastTable + 1][]string
	upserts      [lastTable + 1][]keyedRow
}

func newRowBatch() *rowBatch { return &rowBatch{graphs: map[string]bool{}} }

// flush sends the batched writes: deletes first (a graph cleared is then
// written again), then upserts. A no-op without a batch or with an empty one.
func (w *writeTx) flush() error {
	b := w.batch
	if b == nil || len(b.graphs) == 0 { // SQLite, or nothing written since
		return nil
	}
	w.batch = newRowBatch()
	for t := table(0); t <= lastTable; t++ {
		if ids := b.graphDeletes[t]; len(ids) > 0 {
			if err := w.exec(w.stmts.deleteGraph[t], ids); err != nil {
				return fmt.Errorf("projections: clear %d graphs of %s: %w", len(ids), t, err)
			}
		}
		if ids := b.rowDeletes[t]; len(ids) > 0 {
			if err := w.exec(w.stmts.deleteRow[t], ids); err != nil {
				return fmt.Errorf("projections: delete %d rows of %s: %w", len(ids), t, err)
			}
		}
	}
	for t := table(0); t <= lastTable; t++ {
		rows := b.upserts[t]
		if len(rows) == 0 {
			continue
		}
		if err := w.exec(w.stmts.upsert[t], columnArrays(t, rows)...); err != nil {
			return fmt.Errorf("projections: write %d rows of %s: %w", len(rows), t, err)
		}
	}
	return nil
}

// columnArrays turns rows into one array per column of t's upsert (NULL
// where upsertArgs has nil).
func columnArrays(t table, rows []keyedRow) []any {
	var cols [][]*string
	for i, kr := range rows {
		args := upsertArgs(t, kr.id, kr.row)
		if i == 0 {
			cols = make([][]*string, len(args))
			for c := range cols {
				cols[c] = make([]*string, len(rows))
			}
		}
		for c, a := range args {
			switch v := a.(type) {
			case string:
				cols[c][i] = &v
			case *string:
				cols[c][i] = v
			}
		}
	}
	out := make([]any, len(cols))
	for c := range cols {
		out[c] = cols[c]
	}
	return out
}

// lockCheckpoint reads the committed checkpoint and keeps any other writer
// from moving it until this transaction ends.
func (w *writeTx) lockCheckpoint() (int64, error) {
	return queryCheckpoint(w.ctx, w.tx, w.tx.d.lockRows)
}

// setCheckpoint writes the checkpoint (after the batched rows), and on
// PostgreSQL notifies it in the same statement.
func (w *writeTx) setCheckpoint(position int64) error {
	if err := w.flush(); err != nil {
		return err
	}
	args := []any{checkpointName, position}
	if w.stmts.arrays {
		args = append(args, w.tx.d.channel())
	}
	if err := w.exec(w.stmts.checkpoint, args...); err != nil {
		return fmt.Errorf("projections: write checkpoint: %w", err)
	}
	return nil
}

// commit sends what is batched and commits; on failure the transaction
// is rolled back.
func (w *writeTx) commit() error {
	if err := w.flush(); err != nil {
		w.rollback()
		return err
	}
	if err := w.tx.Commit(); err != nil {
		return fmt.Errorf("projections: commit: %w", err)
	}
	return nil
}

func (w *writeTx) rollback() { _ = w.tx.Rollback() }

// nullable stores "" as NULL (a column Octavia leaves null when unset).
func nullable(v string) any {
	if v == "" {
		return nil
	}
	return v
}
