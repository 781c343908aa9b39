package projections

import (
	"context"
	"fmt"
)

// Kinds of stats rows.
const (
	StatsListener     = "listener"
	StatsLoadBalancer = "loadbalancer"
)

// PutStats records the current counters of one object (the health manager
// reports listeners; a provider may report a load balancer as a whole).
func (rm *ReadModel) PutStats(ctx context.Context, kind, id string, s Stats) error {
	if kind != StatsListener && kind != StatsLoadBalancer {
		return fmt.Errorf("projections: unknown stats kind %q", kind)
	}
	_, err := rm.write.ExecContext(ctx, `INSERT INTO stats
		(kind, id, bytes_in, bytes_out, active_connections, total_connections, request_errors)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (kind, id) DO UPDATE SET bytes_in = excluded.bytes_in, bytes_out = excluded.bytes_out,
		active_connections = excluded.active_connections, total_connections = excluded.total_connections,
		request_errors = excluded.request_errors`,
		kind, id, s.BytesIn, s.BytesOut, s.ActiveConnections, s.TotalConnections, s.RequestErrors)
	if err != nil {
		return fmt.Errorf("projections: put stats %s %s: %w", kind, id, err)
	}
	return nil
}

// ListenerStats are the counters of listener id (zeros before any report);
// ErrNotFound when the listener is not visible.
func (rm *ReadModel) ListenerStats(ctx context.Context, id string) (Stats, error) {
	if err := rm.exists(ctx, tListeners, id); err != nil {
		return Stats{}, err
	}
	return rm.sumStats(ctx, `kind = 'listener' AND id = ?`, id)
}

// LoadBalancerStats sums the counters of the load balancer's listeners, as
// Octavia's StatsMixin does (plus any row reported for the LB itself);
// ErrNotFound when the load balancer is not visible.
func (rm *ReadModel) LoadBalancerStats(ctx context.Context, id string) (Stats, error) {
	if err := rm.exists(ctx, tLoadBalancers, id); err != nil {
		return Stats{}, err
	}
	return rm.sumStats(ctx, `(kind = 'listener' AND id IN (SELECT id FROM listeners WHERE loadbalancer_id = ?))
		OR (kind = 'loadbalancer' AND id = ?)`, id, id)
}

func (rm *ReadModel) sumStats(ctx context.Context, where string, args ...any) (Stats, error) {
	var s Stats
	err := rm.read.QueryRowContext(ctx, `SELECT COALESCE(SUM(bytes_in), 0), COALESCE(SUM(bytes_out), 0),
		COALESCE(SUM(active_connections), 0), COALESCE(SUM(total_connections), 0), COALESCE(SUM(request_errors), 0)
		FROM stats WHERE `+where, args...).Scan(&s.BytesIn, &s.BytesOut, &s.ActiveConnections, &s.TotalConnections, &s.RequestErrors)
	if err != nil {
		return Stats{}, fmt.Errorf("projections: stats: %w", err)
	}
	return s, nil
}
