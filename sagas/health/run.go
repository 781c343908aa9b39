package health

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/projections"
)

// Run watches for stale amphorae every CheckInterval until ctx ends (it then
// returns ctx.Err()). Start it once the read model has caught up with the
// store: its first look seeds every amphora with a last seen time of now.
func (m *Manager) Run(ctx context.Context) error {
	if err := m.refresh(ctx); err != nil {
		m.log.ErrorContext(ctx, "health: first look at the amphorae failed", "error", err)
	}
	m.mu.Lock()
	n := len(m.amphorae)
	m.mu.Unlock()
	m.log.InfoContext(ctx, "health manager watching amphorae", "amphorae", n,
		"heartbeat_timeout", m.cfg.HeartbeatTimeout, "check_interval", m.cfg.CheckInterval,
		"failover_threshold", m.cfg.FailoverThreshold)
	tick := time.NewTicker(m.cfg.CheckInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if err := m.check(ctx); err != nil && ctx.Err() == nil {
				m.log.ErrorContext(ctx, "health: check failed", "error", err)
			}
		}
	}
}

// staleGroup is the stale amphorae of one load balancer.
type staleGroup struct {
	lbID     string
	lbStatus string
	amphorae []string
}

// check is one round: refresh the watched set, find the amphorae silent for
// longer than HeartbeatTimeout, fail over their load balancers.
func (m *Manager) check(ctx context.Context) error {
	if err := m.refresh(ctx); err != nil {
		return err
	}
	groups, count := m.stale()
	if count == 0 {
		m.setStopped(ctx, false, 0)
		return nil
	}
	if th := m.cfg.FailoverThreshold; th > 0 && count >= th {
		m.setStopped(ctx, true, count)
		return nil
	}
	m.setStopped(ctx, false, count)

	var errs []error
	for _, g := range groups {
		// FAILOVERABLE_STATUSES; a PENDING_* load balancer is looked at
		// again at the next round.
		if g.lbStatus != loadbalancer.Active && g.lbStatus != loadbalancer.ErrorStatus {
			m.log.DebugContext(ctx, "health: stale amphora's load balancer is busy; failover later",
				"loadbalancer_id", g.lbID, "provisioning_status", g.lbStatus, "amphorae", g.amphorae)
			continue
		}
		if err := m.failover(ctx, g); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// stale returns the failover candidates (silent too long, ALLOCATED, no
// failover started) grouped by load balancer, and how many there are.
func (m *Manager) stale() ([]staleGroup, int) {
	deadline := m.cfg.Now().Add(-m.cfg.HeartbeatTimeout)
	m.mu.Lock()
	defer m.mu.Unlock()
	byLB := map[string]*staleGroup{}
	count := 0
	for _, t := range m.amphorae {
		if t.busy || t.status != projections.AmphoraAllocated || !t.lastSeen.Before(deadline) {
			continue
		}
		count++
		g := byLB[t.lbID]
		if g == nil {
			g = &staleGroup{lbID: t.lbID, lbStatus: t.lbStatus}
			byLB[t.lbID] = g
		}
		g.amphorae = append(g.amphorae, t.id)
	}
	groups := make([]staleGroup, 0, len(byLB))
	for _, g := range byLB {
		slices.Sort(g.amphorae)
		groups = append(groups, *g)
	}
	slices.SortFunc(groups, func(a, b staleGroup) int { return cmp.Compare(a.lbID, b.lbID) })
	return groups, count
}

// failover starts the failover of a load balancer (the provisioning saga
// boots a new amphora, pushes the configuration, deletes the old one) and
// marks its stale amphorae busy so it is started once.
func (m *Manager) failover(ctx context.Context, g staleGroup) error {
	md := events.Metadata{Actor: events.Actor{UserID: ActorID}, CorrelationID: uuid.NewString()}
	res, err := m.exec.Execute(ctx, g.lbID, loadbalancer.FailoverLoadBalancer{}, md)
	var refused *loadbalancer.Error
	switch {
	case errors.As(err, &refused) && refused.Kind == loadbalancer.NotFound:
		for _, id := range g.amphorae {
			m.forget(id)
		}
		return nil
	case errors.As(err, &refused):
		// Locked meanwhile (a tenant change or a failover from the API):
		// looked at again at the next round.
		m.log.DebugContext(ctx, "health: failover refused", "loadbalancer_id", g.lbID, "reason", refused.Message)
		return nil
	case err != nil:
		m.log.ErrorContext(ctx, "health: failover not started", "loadbalancer_id", g.lbID, "error", err)
		return fmt.Errorf("health: fail over %s: %w", g.lbID, err)
	}
	m.mu.Lock()
	for _, id := range g.amphorae {
		if t, ok := m.amphorae[id]; ok {
			t.busy = true
		}
	}
	m.mu.Unlock()
	m.log.WarnContext(ctx, "health: amphora missed its heartbeats; load balancer failed over",
		"loadbalancer_id", g.lbID, "amphorae", g.amphorae, "heartbeat_timeout", m.cfg.HeartbeatTimeout,
		"position", res.Position, "correlation_id", md.CorrelationID)
	return nil
}

// setStopped logs when the failover threshold starts and stops holding
// failovers back (once each, not every round).
func (m *Manager) setStopped(ctx context.Context, stopped bool, count int) {
	m.mu.Lock()
	was := m.stopped
	m.stopped = stopped
	m.mu.Unlock()
	switch {
	case stopped && !was:
		m.log.ErrorContext(ctx, "health: stale amphora count reached the failover threshold; no failover",
			"stale", count, "threshold", m.cfg.FailoverThreshold)
	case !stopped && was:
		m.log.InfoContext(ctx, "health: stale amphora count below the failover threshold again",
			"stale", count, "threshold", m.cfg.FailoverThreshold)
	}
}
