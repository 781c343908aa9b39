package projections

import (
	"context"
	"errors"
	"fmt"
)

// AmphoraStatsView is one item of GET /v2/octavia/amphorae/{id}/stats
// (api/v2/types/amphora.py AmphoraStatisticsResponse): one listener's
// counters as one amphora served them.
type AmphoraStatsView struct {
	ActiveConnections int64  `json:"active_connections"`
	BytesIn           int64  `json:"bytes_in"`
	BytesOut          int64  `json:"bytes_out"`
	ID                string `json:"id"`
	ListenerID        string `json:"listener_id"`
	LoadBalancerID    string `json:"loadbalancer_id"`
	RequestErrors     int64  `json:"request_errors"`
	TotalConnections  int64  `json:"total_connections"`
}

// AddListenerStats accumulates one heartbeat's counters, keyed by listener
// id, as Octavia's ListenerStatisticsRepository.increment does (heartbeat
// version 3 carries deltas): bytes_in, bytes_out, total_connections and
// request_errors are added; active_connections is the amphora's current
// (absolute) count and replaces the stored one. Both the listener's row
// (what /listeners/{id}/stats and /loadbalancers/{id}/stats sum) and the
// amphora's row (what /amphorae/{id}/stats lists) are updated, all in one
// transaction. No event is written: counters are not facts of the graph.
func (rm *ReadModel) AddListenerStats(ctx context.Context, amphoraID string, deltas map[string]Stats) (err error) {
	if amphoraID == "" {
		return errors.New("projections: add listener stats: empty amphora id")
	}
	if len(deltas) == 0 {
		return nil
	}
	tx, err := rm.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("projections: add listener stats: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	// Qualified: PostgreSQL finds a bare column ambiguous beside excluded.
	accumulate := func(table string) string {
		return `bytes_in = ` + table + `.bytes_in + excluded.bytes_in, bytes_out = ` + table + `.bytes_out + excluded.bytes_out,
		active_connections = excluded.active_connections,
		total_connections = ` + table + `.total_connections + excluded.total_connections,
		request_errors = ` + table + `.request_errors + excluded.request_errors`
	}
	for listenerID, d := range deltas {
		if listenerID == "" {
			continue
		}
		if _, err = tx.ExecContext(ctx, `INSERT INTO stats
			(kind, id, bytes_in, bytes_out, active_connections, total_connections, request_errors)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (kind, id) DO UPDATE SET `+accumulate("stats"),
			StatsListener, listenerID, d.BytesIn, d.BytesOut, d.ActiveConnections, d.TotalConnections, d.RequestErrors); err != nil {
			return fmt.Errorf("projections: add stats of listener %s: %w", listenerID, err)
		}
		if _, err = tx.ExecContext(ctx, `INSERT INTO amphora_stats
			(amphora_id, listener_id, bytes_in, bytes_out, active_connections, total_connections, request_errors)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (amphora_id, listener_id) DO UPDATE SET `+accumulate("amphora_stats"),
			amphoraID, listenerID, d.BytesIn, d.BytesOut, d.ActiveConnections, d.TotalConnections, d.RequestErrors); err != nil {
			return fmt.Errorf("projections: add stats of amphora %s listener %s: %w", amphoraID, listenerID, err)
		}
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("projections: add listener stats: %w", err)
	}
	return nil
}

// AmphoraStats lists the per-listener counters of amphora id, ordered by
// listener id. ErrNotFound when the amphora is not visible or has reported
// nothing yet (Octavia: "Amphora stats for <id> not found").
func (rm *ReadModel) AmphoraStats(ctx context.Context, id string) ([]AmphoraStatsView, error) {
	rows, err := rm.read.QueryContext(ctx, `SELECT s.active_connections, s.bytes_in, s.bytes_out, s.amphora_id,
		s.listener_id, a.loadbalancer_id, s.request_errors, s.total_connections
		FROM amphora_stats s JOIN amphorae a ON a.id = s.amphora_id
		WHERE s.amphora_id = ? ORDER BY s.listener_id`, id)
	if err != nil {
		return nil, fmt.Errorf("projections: amphora stats %s: %w", id, err)
	}
	defer rows.Close()
	var out []AmphoraStatsView
	for rows.Next() {
		var v AmphoraStatsView
		if err := rows.Scan(&v.ActiveConnections, &v.BytesIn, &v.BytesOut, &v.ID, &v.ListenerID,
			&v.LoadBalancerID, &v.RequestErrors, &v.TotalConnections); err != nil {
			return nil, fmt.Errorf("projections: amphora stats %s: %w", id, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("projections: amphora stats %s: %w", id, err)
	}
	if len(out) == 0 {
		return nil, ErrNotFound
	}
	return out, nil
}
