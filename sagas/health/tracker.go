package health

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/octavia-es/octavia-es/projections"
)

// tracked is an amphora the manager watches (Octavia's amphora_health row
// plus what the failover check needs of the amphora and its load balancer,
// as of the last look at the read model).
type tracked struct {
	id       string
	lbID     string // set once: read without the lock
	status   string // the amphora's status (projections.Amphora*)
	lbStatus string // the load balancer's provisioning status
	lastSeen time.Time
	// busy: a failover was started for it (Octavia's amphora_health.busy);
	// it is never failed over again and is forgotten once deleted.
	busy bool

	hb     sync.Mutex       // serialises its heartbeats
	active map[string]int64 // listener id -> active connections last written (under hb)
}

// sendsHeartbeats: only amphorae run by a real driver send heartbeats; a
// noop amphora (or one recorded before drivers were) never does and must
// never be failed over.
func sendsHeartbeats(amphoraDriver string) bool {
	return amphoraDriver != "" && amphoraDriver != "noop"
}

// lookup returns the tracked amphora id, asking the read model on a miss
// (an amphora booted since the last refresh). nil, nil when the amphora is
// unknown or does not send heartbeats.
func (m *Manager) lookup(ctx context.Context, id string) (*tracked, error) {
	m.mu.Lock()
	t, ok := m.amphorae[id]
	m.mu.Unlock()
	if ok {
		return t, nil
	}
	rec, err := m.rm.AmphoraRecordByID(ctx, id)
	if errors.Is(err, projections.ErrNotFound) {
		m.log.DebugContext(ctx, "health: heartbeat of an unknown amphora ignored", "amphora_id", id)
		return nil, nil
	}
	if err != nil {
		m.log.ErrorContext(ctx, "health: amphora not looked up", "amphora_id", id, "error", err)
		return nil, fmt.Errorf("health: look up amphora %s: %w", id, err)
	}
	if !sendsHeartbeats(rec.AmphoraDriver) {
		m.log.WarnContext(ctx, "health: heartbeat claims an amphora whose driver sends none; ignored",
			"amphora_id", id, "amphora_driver", rec.AmphoraDriver)
		return nil, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.amphorae[id]; ok { // added meanwhile
		return t, nil
	}
	t = newTracked(rec, m.cfg.Now())
	m.amphorae[id] = t
	return t, nil
}

func newTracked(rec projections.AmphoraRecord, now time.Time) *tracked {
	return &tracked{
		id: rec.ID, lbID: rec.LoadBalancerID, status: rec.Status, lbStatus: rec.LoadBalancerProvisioning,
		lastSeen: now, active: map[string]int64{},
	}
}

func (m *Manager) touch(t *tracked) {
	now := m.cfg.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if now.After(t.lastSeen) {
		t.lastSeen = now
	}
}

func (m *Manager) forget(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.amphorae, id)
}

// refresh brings the watched set in line with the read model: amphorae not
// watched yet start with a last seen time of now (at start-up: every
// amphora, so one that died while the controller was down is detected
// after HeartbeatTimeout), deleted ones are forgotten, statuses updated.
func (m *Manager) refresh(ctx context.Context) error {
	recs, err := m.rm.AmphoraRecords(ctx)
	if err != nil {
		return fmt.Errorf("health: list amphorae: %w", err)
	}
	now := m.cfg.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := make(map[string]bool, len(recs))
	for _, rec := range recs {
		if !sendsHeartbeats(rec.AmphoraDriver) {
			continue
		}
		seen[rec.ID] = true
		if t, ok := m.amphorae[rec.ID]; ok {
			t.status, t.lbStatus = rec.Status, rec.LoadBalancerProvisioning // an amphora never changes load balancer
			continue
		}
		m.amphorae[rec.ID] = newTracked(rec, now)
	}
	for id := range m.amphorae {
		if !seen[id] {
			delete(m.amphorae, id)
		}
	}
	return nil
}
