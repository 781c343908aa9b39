package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// Lists and gets of the v2 API. Lists filter by ListOptions.ProjectID when
// set; gets return any visible object (the HTTP layer checks its project).
// The ...Raw lists return the stored documents as they are, for a handler
// that writes them out without decoding (no `fields` selection).

func (rm *ReadModel) ListLoadBalancers(ctx context.Context, o ListOptions) (Page[LoadBalancerView], error) {
	return decodePage[LoadBalancerView](rm.listRaw(ctx, loadBalancers, nil, o))
}

func (rm *ReadModel) ListLoadBalancersRaw(ctx context.Context, o ListOptions) (Page[json.RawMessage], error) {
	return rm.listRaw(ctx, loadBalancers, nil, o)
}

func (rm *ReadModel) GetLoadBalancer(ctx context.Context, id string) (LoadBalancerView, error) {
	return getDoc[LoadBalancerView](ctx, rm, tLoadBalancers, id)
}

func (rm *ReadModel) ListListeners(ctx context.Context, o ListOptions) (Page[ListenerView], error) {
	return decodePage[ListenerView](rm.listRaw(ctx, listeners, nil, o))
}

func (rm *ReadModel) ListListenersRaw(ctx context.Context, o ListOptions) (Page[json.RawMessage], error) {
	return rm.listRaw(ctx, listeners, nil, o)
}

func (rm *ReadModel) GetListener(ctx context.Context, id string) (ListenerView, error) {
	return getDoc[ListenerView](ctx, rm, tListeners, id)
}

func (rm *ReadModel) ListPools(ctx context.Context, o ListOptions) (Page[PoolView], error) {
	return decodePage[PoolView](rm.listRaw(ctx, pools, nil, o))
}

func (rm *ReadModel) ListPoolsRaw(ctx context.Context, o ListOptions) (Page[json.RawMessage], error) {
	return rm.listRaw(ctx, pools, nil, o)
}

func (rm *ReadModel) GetPool(ctx context.Context, id string) (PoolView, error) {
	return getDoc[PoolView](ctx, rm, tPools, id)
}

func (rm *ReadModel) ListHealthMonitors(ctx context.Context, o ListOptions) (Page[HealthMonitorView], error) {
	return decodePage[HealthMonitorView](rm.listRaw(ctx, healthMonitors, nil, o))
}

func (rm *ReadModel) ListHealthMonitorsRaw(ctx context.Context, o ListOptions) (Page[json.RawMessage], error) {
	return rm.listRaw(ctx, healthMonitors, nil, o)
}

func (rm *ReadModel) GetHealthMonitor(ctx context.Context, id string) (HealthMonitorView, error) {
	return getDoc[HealthMonitorView](ctx, rm, tHealthMonitors, id)
}

// ListMembers lists the members of pool poolID; ErrNotFound when the pool is
// not visible (Octavia answers "Pool <id> not found").
func (rm *ReadModel) ListMembers(ctx context.Context, poolID string, o ListOptions) (Page[MemberView], error) {
	return decodePage[MemberView](rm.ListMembersRaw(ctx, poolID, o))
}

func (rm *ReadModel) ListMembersRaw(ctx context.Context, poolID string, o ListOptions) (Page[json.RawMessage], error) {
	if err := rm.exists(ctx, tPools, poolID); err != nil {
		return Page[json.RawMessage]{}, err
	}
	return rm.listRaw(ctx, members, []cond{{"t.pool_id = ?", []any{poolID}}}, o)
}

// GetMember returns member memberID of pool poolID; ErrNotFound when no such
// member is visible in that pool (Octavia: "Member <id> not found").
func (rm *ReadModel) GetMember(ctx context.Context, poolID, memberID string) (MemberView, error) {
	var v MemberView
	var doc []byte
	err := rm.read.QueryRowContext(ctx, `SELECT doc FROM members WHERE id = ? AND pool_id = ?`, memberID, poolID).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return v, ErrNotFound
	}
	if err != nil {
		return v, fmt.Errorf("projections: get member %s: %w", memberID, err)
	}
	if err := json.Unmarshal(doc, &v); err != nil {
		return v, fmt.Errorf("projections: decode member %s: %w", memberID, err)
	}
	return v, nil
}

// StatusTree is the status tree of load balancer lbID (Octavia's
// LoadBalancerStatusResponse).
func (rm *ReadModel) StatusTree(ctx context.Context, lbID string) (StatusTree, error) {
	return getDoc[StatusTree](ctx, rm, statusTable, lbID)
}

// PendingLoadBalancers returns the ids of load balancers in a PENDING_*
// provisioning status, oldest first: the sagas to resume at start-up.
func (rm *ReadModel) PendingLoadBalancers(ctx context.Context) ([]string, error) {
	rows, err := rm.read.QueryContext(ctx, `SELECT id FROM load_balancers
		WHERE provisioning_status IN ('PENDING_CREATE', 'PENDING_UPDATE', 'PENDING_DELETE')
		ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("projections: pending load balancers: %w", err)
	}
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("projections: pending load balancers: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("projections: pending load balancers: %w", err)
	}
	return ids, nil
}

func (rm *ReadModel) exists(ctx context.Context, t table, id string) error {
	var one int
	err := rm.read.QueryRowContext(ctx, `SELECT 1 FROM `+t.String()+` WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("projections: look up %s %s: %w", t, id, err)
	}
	return nil
}

func getDoc[T any](ctx context.Context, rm *ReadModel, t table, id string) (T, error) {
	var v T
	key := "id"
	if t == statusTable {
		key = "loadbalancer_id"
	}
	var doc []byte
	err := rm.read.QueryRowContext(ctx, `SELECT doc FROM `+t.String()+` WHERE `+key+` = ?`, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return v, ErrNotFound
	}
	if err != nil {
		return v, fmt.Errorf("projections: get %s %s: %w", t, id, err)
	}
	if err := json.Unmarshal(doc, &v); err != nil {
		return v, fmt.Errorf("projections: decode %s %s: %w", t, id, err)
	}
	return v, nil
}

func decodePage[T any](raw Page[json.RawMessage], err error) (Page[T], error) {
	if err != nil {
		return Page[T]{}, err
	}
	out := Page[T]{Items: make([]T, len(raw.Items)), NextMarker: raw.NextMarker, PrevMarker: raw.PrevMarker}
	for i, doc := range raw.Items {
		if err := json.Unmarshal(doc, &out.Items[i]); err != nil {
			return Page[T]{}, fmt.Errorf("projections: decode list item: %w", err)
		}
	}
	return out, nil
}
