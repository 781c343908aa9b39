package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// Amphorae of the admin API (GET /v2/octavia/amphorae): every project's
// unless ListOptions.ProjectID is set (then the load balancer's project).

func (rm *ReadModel) ListAmphorae(ctx context.Context, o ListOptions) (Page[AmphoraView], error) {
	return decodePage[AmphoraView](rm.listRaw(ctx, amphorae, nil, o))
}

func (rm *ReadModel) ListAmphoraeRaw(ctx context.Context, o ListOptions) (Page[json.RawMessage], error) {
	return rm.listRaw(ctx, amphorae, nil, o)
}

func (rm *ReadModel) GetAmphora(ctx context.Context, id string) (AmphoraView, error) {
	return getDoc[AmphoraView](ctx, rm, tAmphorae, id)
}

// AmphoraRecord is what the health manager needs of an amphora: its load
// balancer (with that load balancer's provisioning status, "" when the load
// balancer has no row) and the driver that runs it.
type AmphoraRecord struct {
	ID                       string
	LoadBalancerID           string
	Status                   string
	ComputeDriver            string
	NetworkDriver            string
	AmphoraDriver            string
	LoadBalancerProvisioning string
}

const amphoraRecordQuery = `SELECT a.id, a.loadbalancer_id, a.status, a.compute_driver, a.network_driver,
	a.amphora_driver, COALESCE(lb.provisioning_status, '')
	FROM amphorae a LEFT JOIN load_balancers lb ON lb.id = a.loadbalancer_id`

// AmphoraRecords returns every amphora of the read model, ordered by id.
func (rm *ReadModel) AmphoraRecords(ctx context.Context) ([]AmphoraRecord, error) {
	rows, err := rm.read.QueryContext(ctx, amphoraRecordQuery+` ORDER BY a.id`)
	if err != nil {
		return nil, fmt.Errorf("projections: amphora records: %w", err)
	}
	defer rows.Close()
	out := []AmphoraRecord{}
	for rows.Next() {
		r, err := scanAmphoraRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("projections: amphora records: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("projections: amphora records: %w", err)
	}
	return out, nil
}

// AmphoraRecordByID returns amphora id; ErrNotFound when it is not (or no
// longer) in the read model.
func (rm *ReadModel) AmphoraRecordByID(ctx context.Context, id string) (AmphoraRecord, error) {
	r, err := scanAmphoraRecord(rm.read.QueryRowContext(ctx, amphoraRecordQuery+` WHERE a.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return AmphoraRecord{}, ErrNotFound
	}
	if err != nil {
		return AmphoraRecord{}, fmt.Errorf("projections: amphora record %s: %w", id, err)
	}
	return r, nil
}

func scanAmphoraRecord(row interface{ Scan(...any) error }) (AmphoraRecord, error) {
	var r AmphoraRecord
	err := row.Scan(&r.ID, &r.LoadBalancerID, &r.Status, &r.ComputeDriver, &r.NetworkDriver,
		&r.AmphoraDriver, &r.LoadBalancerProvisioning)
	return r, err
}
