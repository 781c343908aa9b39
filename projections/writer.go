package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// writeStmts are prepared once on the single write connection; each
// transaction binds them with tx.StmtContext.
type writeStmts struct {
	upsert      [lastTable + 1]*sql.Stmt
	deleteRow   [lastTable + 1]*sql.Stmt
	deleteGraph [lastTable + 1]*sql.Stmt
	checkpoint  *sql.Stmt
}

func (w *writeStmts) prepare(ctx context.Context, db *sql.DB) error {
	prep := func(dst **sql.Stmt, q string) error {
		s, err := db.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("projections: prepare %q: %w", q, err)
		}
		*dst = s
		return nil
	}
	for t := tLoadBalancers; t < statusTable; t++ {
		name := t.String()
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
	if err := prep(&w.upsert[statusTable], `INSERT INTO status_trees (loadbalancer_id, doc) VALUES (?, ?)
		ON CONFLICT (loadbalancer_id) DO UPDATE SET doc = excluded.doc`); err != nil {
		return err
	}
	if err := prep(&w.deleteRow[statusTable], `DELETE FROM status_trees WHERE loadbalancer_id = ?`); err != nil {
		return err
	}
	w.deleteGraph[statusTable] = w.deleteRow[statusTable]
	if err := prep(&w.upsert[tAmphorae], `INSERT INTO amphorae
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
	if err := prep(&w.deleteRow[tAmphorae], `DELETE FROM amphorae WHERE id = ?`); err != nil {
		return err
	}
	if err := prep(&w.deleteGraph[tAmphorae], `DELETE FROM amphorae WHERE loadbalancer_id = ?`); err != nil {
		return err
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
	return errors.Join(errs...)
}

// writeTx is one write transaction of the projector.
type writeTx struct {
	ctx   context.Context
	tx    *sql.Tx
	stmts *writeStmts
}

func (rm *ReadModel) beginWrite(ctx context.Context) (*writeTx, error) {
	tx, err := rm.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("projections: begin: %w", err)
	}
	return &writeTx{ctx: ctx, tx: tx, stmts: &rm.stmts}, nil
}

func (w *writeTx) exec(s *sql.Stmt, args ...any) error {
	_, err := w.tx.StmtContext(w.ctx, s).ExecContext(w.ctx, args...)
	return err
}

// writeGraph brings the rows of graph lbID from prev (what is stored; nil
// when unknown) to next: rows that vanished are deleted, changed ones
// upserted. With prev unknown every row of the graph is replaced.
func (w *writeTx) writeGraph(lbID string, prev, next map[rowKey]row) error {
	if prev == nil {
		for t := tLoadBalancers; t <= lastTable; t++ {
			if err := w.exec(w.stmts.deleteGraph[t], lbID); err != nil {
				return fmt.Errorf("projections: clear %s of %s: %w", t, lbID, err)
			}
		}
	}
	for k := range prev {
		if _, ok := next[k]; !ok {
			if err := w.exec(w.stmts.deleteRow[k.table], k.id); err != nil {
				return fmt.Errorf("projections: delete %s %s: %w", k.table, k.id, err)
			}
		}
	}
	for k, r := range next {
		if old, ok := prev[k]; ok && old.equal(r) {
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
			return fmt.Errorf("projections: write %s %s: %w", k.table, k.id, err)
		}
	}
	return nil
}

func (w *writeTx) setCheckpoint(position int64) error {
	if err := w.exec(w.stmts.checkpoint, checkpointName, position); err != nil {
		return fmt.Errorf("projections: write checkpoint: %w", err)
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
