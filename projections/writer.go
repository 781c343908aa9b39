package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"
	"strconv"
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
	checkpoint  *sql.Stmt // nil: the sink writes no checkpoint
}

func (w *writeStmts) prepare(ctx context.Context, c db, to targets, checkpoint bool) error {
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
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET
			project_id = excluded.project_id, loadbalancer_id = excluded.loadbalancer_id,
			pool_id = excluded.pool_id, name = excluded.name,
			provisioning_status = excluded.provisioning_status, operating_status = excluded.operating_status,
			created_at = excluded.created_at, updated_at = excluded.updated_at, tags = excluded.tags, doc = excluded.doc`); err != nil {
			return err
		}
		if err := prep(&w.deleteRow[t], `DELETE FROM `+name+` WHERE id = ?`); err != nil {
			return err
		}
		if err := prep(&w.deleteGraph[t], `DELETE FROM `+name+` WHERE loadbalancer_id = ?`); err != nil {
			return err
		}
	}
	if name := to[statusTable]; name != "" {
		if err := prep(&w.upsert[statusTable], `INSERT INTO `+name+` (loadbalancer_id, doc) VALUES (?, ?)
			ON CONFLICT (loadbalancer_id) DO UPDATE SET doc = excluded.doc`); err != nil {
			return err
		}
		if err := prep(&w.deleteRow[statusTable], `DELETE FROM `+name+` WHERE loadbalancer_id = ?`); err != nil {
			return err
		}
		w.deleteGraph[statusTable] = w.deleteRow[statusTable]
	}
	if name := to[tAmphorae]; name != "" {
		if err := prep(&w.upsert[tAmphorae], `INSERT INTO `+name+`
			(id, project_id, loadbalancer_id, compute_id, role, status, lb_network_ip,
			compute_driver, network_driver, amphora_driver, created_at, updated_at, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET
			project_id = excluded.project_id, loadbalancer_id = excluded.loadbalancer_id,
			compute_id = excluded.compute_id, role = excluded.role, status = excluded.status,
			lb_network_ip = excluded.lb_network_ip, compute_driver = excluded.compute_driver,
			network_driver = excluded.network_driver, amphora_driver = excluded.amphora_driver,
			created_at = excluded.created_at, updated_at = excluded.updated_at, doc = excluded.doc`); err != nil {
			return err
		}
		if err := prep(&w.deleteRow[tAmphorae], `DELETE FROM `+name+` WHERE id = ?`); err != nil {
			return err
		}
		if err := prep(&w.deleteGraph[tAmphorae], `DELETE FROM `+name+` WHERE loadbalancer_id = ?`); err != nil {
			return err
		}
	}
	if !checkpoint {
		return nil
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
}

func (s *sink) begin(ctx context.Context) (*writeTx, error) {
	t, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("projections: begin: %w", err)
	}
	return &writeTx{ctx: ctx, tx: t, stmts: &s.stmts, seed: s.seed}, nil
}

func (w *writeTx) exec(s *sql.Stmt, args ...any) error {
	_, err := w.tx.StmtContext(w.ctx, s).ExecContext(w.ctx, args...)
	return err
}

// writeGraph brings the rows of graph lbID from prev (the sums of what is
// stored; nil when unknown) to next, in the tables this sink writes: rows
// that vanished are deleted, changed ones upserted. With prev unknown every
// row of the graph is replaced. It returns the sums of next, the graph's
// prev for its next write.
func (w *writeTx) writeGraph(lbID string, prev map[rowKey]uint64, next map[rowKey]row) (map[rowKey]uint64, error) {
	if prev == nil {
		for t := tLoadBalancers; t <= lastTable; t++ {
			if w.stmts.deleteGraph[t] == nil {
				continue
			}
			if err := w.exec(w.stmts.deleteGraph[t], lbID); err != nil {
				return nil, fmt.Errorf("projections: clear %s of %s: %w", t, lbID, err)
			}
		}
	}
	for k := range prev {
		if _, ok := next[k]; ok || w.stmts.deleteRow[k.table] == nil {
			continue
		}
		if err := w.exec(w.stmts.deleteRow[k.table], k.id); err != nil {
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
		var err error
		switch k.table {
		case statusTable:
			err = w.exec(w.stmts.upsert[statusTable], k.id, r.doc)
		case tAmphorae:
			a := r.amp
			err = w.exec(w.stmts.upsert[tAmphorae], k.id, r.projectID, r.loadBalancerID, a.computeID,
				nullable(a.role), r.provisioning, nullable(a.lbNetworkIP), a.computeDriver, a.networkDriver,
				a.amphoraDriver, r.createdAt, r.updatedAt, r.doc)
		default:
			err = w.exec(w.stmts.upsert[k.table], k.id, r.projectID, r.loadBalancerID, r.poolID, r.name,
				r.provisioning, r.operating, r.createdAt, r.updatedAt, r.tags, r.doc)
		}
		if err != nil {
			return nil, fmt.Errorf("projections: write %s %s: %w", k.table, k.id, err)
		}
	}
	return sums, nil
}

// lockCheckpoint reads the committed checkpoint and keeps any other writer
// from moving it until this transaction ends.
func (w *writeTx) lockCheckpoint() (int64, error) {
	return queryCheckpoint(w.ctx, w.tx, w.tx.d.lockRows)
}

func (w *writeTx) setCheckpoint(position int64) error {
	if w.stmts.checkpoint == nil {
		return errors.New("projections: this writer keeps no checkpoint")
	}
	if err := w.exec(w.stmts.checkpoint, checkpointName, position); err != nil {
		return fmt.Errorf("projections: write checkpoint: %w", err)
	}
	return notifyCheckpoint(w.ctx, w.tx, position)
}

// notifyCheckpoint tells the other processes of a PostgreSQL read model
// that the checkpoint moved (delivered when the transaction commits, not
// before); nothing on SQLite, whose read model is its process's own.
func notifyCheckpoint(ctx context.Context, t tx, position int64) error {
	if !t.d.numbered {
		return nil
	}
	if _, err := t.ExecContext(ctx, `SELECT pg_notify(?, ?)`, t.d.channel(), strconv.FormatInt(position, 10)); err != nil {
		return fmt.Errorf("projections: notify checkpoint: %w", err)
	}
	return nil
}

func (w *writeTx) commit() error {
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
