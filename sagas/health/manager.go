package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/octavia-es/octavia-es/adapters/amphora/heartbeat"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/projections"
)

// ActorID is the user id of the health manager's commands.
const ActorID = "octavia-health-manager"

// Executor is what the manager needs of the load balancer aggregate
// (loadbalancer.Executor, implemented by *loadbalancer.Handler).
type Executor interface {
	Execute(ctx context.Context, loadBalancerID string, cmd loadbalancer.Command, md events.Metadata) (loadbalancer.Result, error)
	Load(ctx context.Context, loadBalancerID string) (loadbalancer.State, error)
}

// ReadModel is what the manager needs of the read model
// (*projections.ReadModel): the amphorae, and the stats it accumulates.
type ReadModel interface {
	AmphoraRecords(ctx context.Context) ([]projections.AmphoraRecord, error)
	AmphoraRecordByID(ctx context.Context, id string) (projections.AmphoraRecord, error)
	AddListenerStats(ctx context.Context, amphoraID string, deltas map[string]projections.Stats) error
}

// Manager is the health manager (see doc.go). Safe for concurrent use.
type Manager struct {
	exec Executor
	rm   ReadModel
	cfg  Config
	log  *slog.Logger

	mu       sync.Mutex
	amphorae map[string]*tracked
	stopped  bool // the failover threshold is holding failovers back
}

// New returns a manager. A nil log discards.
func New(exec Executor, rm ReadModel, cfg Config, log *slog.Logger) (*Manager, error) {
	if exec == nil || rm == nil {
		return nil, errors.New("health: executor and read model are required")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{exec: exec, rm: rm, cfg: cfg, log: log, amphorae: map[string]*tracked{}}, nil
}

// HandleHeartbeat processes one authenticated heartbeat: the amphora's last
// seen time, the operating statuses of its load balancer graph (one
// RecordOperatingStatuses when something changed, nothing otherwise) and
// its listeners' counters. A heartbeat of an amphora the read model does
// not know (not projected yet, or deleted) is ignored. Errors are logged
// and returned.
func (m *Manager) HandleHeartbeat(ctx context.Context, msg heartbeat.Message) error {
	if msg.AmphoraID == "" {
		return errors.New("health: heartbeat without an amphora id")
	}
	t, err := m.lookup(ctx, msg.AmphoraID)
	if err != nil || t == nil {
		return err
	}
	// One heartbeat of an amphora at a time: statuses and counters are
	// applied in the order they arrive.
	t.hb.Lock()
	defer t.hb.Unlock()

	s, err := m.exec.Load(ctx, t.lbID)
	if err != nil {
		// A controller-side failure says nothing about the amphora.
		m.touch(t)
		m.log.ErrorContext(ctx, "health: load balancer not loaded", "amphora_id", msg.AmphoraID,
			"loadbalancer_id", t.lbID, "error", err)
		return fmt.Errorf("health: heartbeat of amphora %s: %w", msg.AmphoraID, err)
	}
	if _, ok := s.Amphorae[msg.AmphoraID]; !ok || !s.Alive() {
		m.log.DebugContext(ctx, "health: heartbeat of an amphora being deleted", "amphora_id", msg.AmphoraID,
			"loadbalancer_id", t.lbID)
		m.forget(msg.AmphoraID)
		return nil
	}

	d := derive(s, msg)
	for _, w := range d.Warnings {
		m.log.WarnContext(ctx, "health: "+w, "amphora_id", msg.AmphoraID, "loadbalancer_id", t.lbID)
	}
	if d.Alive {
		m.touch(t)
	} else {
		m.log.WarnContext(ctx, "health: heartbeat does not report every listener; not counted",
			"amphora_id", msg.AmphoraID, "loadbalancer_id", t.lbID,
			"found", d.ReportedListeners, "expected", d.ExpectedListeners)
	}

	var errs []error
	if err := m.addStats(ctx, t, s, msg); err != nil {
		errs = append(errs, err)
	}
	if d.changed() {
		md := events.Metadata{Actor: events.Actor{UserID: ActorID}, CorrelationID: uuid.NewString()}
		_, err := m.exec.Execute(ctx, t.lbID, loadbalancer.RecordOperatingStatuses{Change: d.Change}, md)
		if err != nil {
			m.log.ErrorContext(ctx, "health: operating statuses not recorded", "amphora_id", msg.AmphoraID,
				"loadbalancer_id", t.lbID, "error", err)
			errs = append(errs, fmt.Errorf("health: record statuses of %s: %w", t.lbID, err))
		}
	}
	return errors.Join(errs...)
}

// addStats accumulates the counters of the listeners the graph knows.
// A listener whose counters did not move since its last report (nothing
// added, same active connections) is not written again.
func (m *Manager) addStats(ctx context.Context, t *tracked, s loadbalancer.State, msg heartbeat.Message) error {
	var deltas map[string]projections.Stats
	for id, l := range msg.Listeners {
		if _, known := s.Listeners[id]; !known {
			continue
		}
		st := l.Stats
		d := projections.Stats{BytesIn: st.RX, BytesOut: st.TX, ActiveConnections: st.Conns,
			TotalConnections: st.TotConns, RequestErrors: st.EReq}
		prev, reported := t.active[id]
		if reported && prev == d.ActiveConnections && d.BytesIn == 0 && d.BytesOut == 0 &&
			d.TotalConnections == 0 && d.RequestErrors == 0 {
			continue
		}
		if deltas == nil {
			deltas = map[string]projections.Stats{}
		}
		deltas[id] = d
	}
	if len(deltas) == 0 {
		return nil
	}
	if err := m.rm.AddListenerStats(ctx, msg.AmphoraID, deltas); err != nil {
		m.log.ErrorContext(ctx, "health: stats not recorded", "amphora_id", msg.AmphoraID, "error", err)
		return fmt.Errorf("health: stats of amphora %s: %w", msg.AmphoraID, err)
	}
	for id, d := range deltas {
		t.active[id] = d.ActiveConnections
	}
	return nil
}

// LastSeen is when amphora id last gave a sign of life (or when the
// manager started watching it); false when it is not watched.
func (m *Manager) LastSeen(id string) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.amphorae[id]
	if !ok {
		return time.Time{}, false
	}
	return t.lastSeen, true
}
