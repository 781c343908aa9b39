package agent

import (
	"bytes"
	"context"
	"crypto/md5" //nolint:gosec // Octavia's ETag, not security
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/octavia-es/octavia-es/adapters/amphora/heartbeat"
)

// Errors the API maps to status codes.
var (
	errNotFound = errors.New("load balancer not found")
	errClosed   = errors.New("agent shutting down")
)

// staleError: an upload older than the configuration the amphora has.
type staleError struct{ running, offered int64 }

func (e *staleError) Error() string {
	return fmt.Sprintf("configuration version %d is older than the version %d this amphora has", e.offered, e.running)
}

const maxRestartBackoff = 30 * time.Second

// manager runs one master-worker HAProxy per load balancer. Operations on
// one load balancer are serialized by its lock; different load balancers
// proceed in parallel.
type manager struct {
	base string
	hap  *haproxyBin
	log  *slog.Logger
	ctrs *counters

	closed atomic.Bool
	mu     sync.Mutex
	lbs    map[string]*lbProc
}

// lbProc is a load balancer known to the agent (it has a directory).
type lbProc struct {
	id    string
	paths Paths

	mu      sync.Mutex
	m       *master // nil when stopped
	want    bool    // should run: restart it if it dies
	backoff time.Duration
	deleted bool
}

func (lb *lbProc) running() bool { return lb.m != nil && !lb.m.exited() }

func newManager(base string, hap *haproxyBin, log *slog.Logger) *manager {
	return &manager{base: base, hap: hap, log: log, ctrs: newCounters(), lbs: map[string]*lbProc{}}
}

// startExisting starts every load balancer with a configuration on disk,
// as an amphora's init system starts its enabled HAProxy services at boot.
func (mg *manager) startExisting() {
	entries, err := os.ReadDir(mg.base)
	if err != nil {
		mg.log.Error("list load balancers", "err", err)
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !validID.MatchString(e.Name()) {
			continue
		}
		if _, err := os.Stat(LBPaths(mg.base, e.Name()).Config); err != nil {
			continue
		}
		err := mg.with(e.Name(), true, func(lb *lbProc) error { return mg.start(lb) })
		if err != nil {
			mg.log.Error("start load balancer at boot", "lb_id", e.Name(), "err", err)
		}
	}
}

// with runs fn with lb's lock held. create adds an unknown load balancer;
// otherwise an unknown one is errNotFound. A load balancer deleted while
// fn waited for the lock is looked up again.
func (mg *manager) with(lbID string, create bool, fn func(*lbProc) error) error {
	for {
		if mg.closed.Load() {
			return errClosed
		}
		mg.mu.Lock()
		lb, ok := mg.lbs[lbID]
		if !ok {
			if !create {
				mg.mu.Unlock()
				return errNotFound
			}
			lb = &lbProc{id: lbID, paths: LBPaths(mg.base, lbID)}
			mg.lbs[lbID] = lb
		}
		mg.mu.Unlock()
		lb.mu.Lock()
		if lb.deleted {
			lb.mu.Unlock()
			continue
		}
		err := fn(lb)
		lb.mu.Unlock()
		return err
	}
}

func (mg *manager) snapshot() []*lbProc {
	mg.mu.Lock()
	defer mg.mu.Unlock()
	out := make([]*lbProc, 0, len(mg.lbs))
	for _, lb := range mg.lbs {
		out = append(out, lb)
	}
	slices.SortFunc(out, func(a, b *lbProc) int { return strings.Compare(a.id, b.id) })
	return out
}

// uploadResult answers an upload.
type uploadResult struct {
	Changed bool  // the bytes differ from the configuration on disk
	Running bool  // HAProxy runs (a previous configuration, if Changed)
	Version int64 // the version now recorded
	MD5     string
}

// upload validates a configuration with `haproxy -c` and installs it
// atomically; it does not (re)start HAProxy. version < 0: none given.
func (mg *manager) upload(ctx context.Context, lbID string, body []byte, version int64) (res uploadResult, err error) {
	err = mg.with(lbID, true, func(lb *lbProc) error {
		cur, err := readVersion(lb.paths.Version)
		if err != nil {
			return err
		}
		if version >= 0 && version < cur {
			return &staleError{running: cur, offered: version}
		}
		if _, ok := socketPath(lb.paths.Dir, parseConfig(body).statsSocket); !ok {
			return &invalidConfigError{details: "no unix \"stats socket\" (an absolute path, or unix@<path relative to the load balancer's directory>) in the global section: the agent reads listener status and counters from it"}
		}
		if err := os.MkdirAll(lb.paths.Dir, 0o700); err != nil {
			return err
		}
		candidate := lb.paths.Config + ".new"
		if err := os.WriteFile(candidate, body, 0o600); err != nil {
			return err
		}
		if err := mg.hap.check(ctx, lb.paths.Dir, candidate); err != nil {
			// Kept for debugging, as Octavia's agent does.
			_ = os.Rename(candidate, lb.paths.Config+"-failed")
			return err
		}
		old, _ := os.ReadFile(lb.paths.Config)
		if err := os.Rename(candidate, lb.paths.Config); err != nil {
			return err
		}
		mg.pruneCerts(lb, body)
		if version >= 0 {
			if err := writeFileAtomic(lb.paths.Version, []byte(fmt.Sprintf("%d\n", version)), 0o600); err != nil {
				return err
			}
			cur = version
		}
		sum := md5.Sum(body) //nolint:gosec
		res = uploadResult{Changed: !bytes.Equal(old, body), Running: lb.running(), Version: cur, MD5: hex.EncodeToString(sum[:])}
		return nil
	})
	return res, err
}

// action starts, stops or reloads a load balancer's HAProxy. A reload of a
// stopped one starts it (as Octavia's agent); a start of a running one
// does nothing.
func (mg *manager) action(lbID, action string) error {
	return mg.with(lbID, false, func(lb *lbProc) error {
		if _, err := os.Stat(lb.paths.Config); err != nil {
			return errNotFound
		}
		switch action {
		case "start":
			return mg.start(lb)
		case "stop":
			mg.stop(lb)
			return nil
		case "reload":
			return mg.reload(lb)
		}
		return fmt.Errorf("unknown action %q", action)
	})
}

// start runs HAProxy on the configuration on disk. lb.mu held.
func (mg *manager) start(lb *lbProc) error {
	if lb.running() {
		lb.want = true
		return nil
	}
	body, err := os.ReadFile(lb.paths.Config)
	if err != nil {
		return errNotFound
	}
	mg.ctrs.forget(lb.id)
	m, err := startMaster(masterSpec{
		bin: mg.hap.path, dir: lb.paths.Dir, cfgPath: lb.paths.Config,
		masterSock: lb.paths.MasterSocket, pidFile: lb.paths.PIDFile,
		cfg: parseConfig(body), log: mg.log.With("lb_id", lb.id),
	})
	if err != nil {
		return err
	}
	lb.m, lb.want, lb.backoff = m, true, 0
	mg.log.Info("haproxy started", "lb_id", lb.id, "pid", m.pid)
	go mg.supervise(lb, m)
	return nil
}

// stop ends HAProxy. lb.mu held.
func (mg *manager) stop(lb *lbProc) {
	lb.want = false
	if m := lb.m; m != nil {
		lb.m = nil
		m.stop()
		mg.log.Info("haproxy stopped", "lb_id", lb.id, "pid", m.pid)
	}
	mg.ctrs.forget(lb.id)
}

// reload has a running HAProxy load the configuration on disk without
// dropping a connection, carrying server states and counters over. lb.mu
// held, so no heartbeat samples counters in between.
func (mg *manager) reload(lb *lbProc) error {
	if !lb.running() {
		return mg.start(lb)
	}
	m := lb.m
	ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout+5*time.Second)
	defer cancel()
	// A CLI session open on the current worker keeps it from exiting when
	// the reload stops it: afterwards it still answers with its final
	// counters, including what it accepted until the new worker took over.
	sess, err := openCLISession(ctx, m.statsSocket)
	if err != nil {
		mg.log.Warn("reload: no stats session on the current worker: its last counters are lost", "lb_id", lb.id, "err", err)
	} else {
		defer sess.close()
		if m.stateFile != "" {
			// As Octavia: member states survive the reload through the
			// file the configuration loads ("load-server-state-from-file").
			state, err := sess.command("show servers state")
			if err == nil {
				err = writeFileAtomic(m.stateFile, state, 0o600)
			}
			if err != nil {
				mg.log.Warn("save server states before a reload", "lb_id", lb.id, "err", err)
			}
		}
	}
	if err := m.reload(); err != nil {
		return err
	}
	cur := map[string]counterSet{}
	if sess != nil {
		out, err := sess.command("show stat")
		var rows []statRow
		if err == nil {
			rows, err = parseStatCSV(out)
		}
		if err != nil {
			mg.log.Warn("reload: final counters of the previous worker", "lb_id", lb.id, "err", err)
		}
		for id, l := range statusFromRows(rows).listeners {
			cur[id] = l.total
		}
	}
	mg.ctrs.beforeReload(lb.id, cur)
	if body, err := os.ReadFile(lb.paths.Config); err == nil {
		m.statsSocket, m.stateFile = parseConfig(body).files(lb.paths.Dir)
	}
	lb.want, lb.backoff = true, 0
	mg.log.Info("haproxy reloaded", "lb_id", lb.id, "pid", m.pid)
	return nil
}

// supervise restarts a HAProxy that exits on its own (with a growing
// delay), as systemd's Restart=always does for Octavia's.
func (mg *manager) supervise(lb *lbProc, m *master) {
	<-m.done
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if lb.m != m {
		return // stopped, or replaced, on purpose
	}
	lb.m = nil
	mg.ctrs.forget(lb.id)
	mg.log.Error("haproxy exited unexpectedly", "lb_id", lb.id, "pid", m.pid, "err", m.err, "output", m.out.tail())
	mg.scheduleRestart(lb)
}

// scheduleRestart: lb.mu held.
func (mg *manager) scheduleRestart(lb *lbProc) {
	if !lb.want || lb.deleted || mg.closed.Load() {
		return
	}
	lb.backoff = min(max(2*lb.backoff, time.Second), maxRestartBackoff)
	time.AfterFunc(lb.backoff, func() {
		lb.mu.Lock()
		defer lb.mu.Unlock()
		if !lb.want || lb.deleted || lb.running() || mg.closed.Load() {
			return
		}
		if err := mg.start(lb); err != nil {
			mg.log.Error("restart haproxy", "lb_id", lb.id, "err", err)
			mg.scheduleRestart(lb)
		}
	})
}

// delete stops a load balancer's HAProxy and removes its files. Unknown
// load balancers are fine (Octavia answers OK).
func (mg *manager) delete(lbID string) error {
	err := mg.with(lbID, false, func(lb *lbProc) error {
		mg.stop(lb)
		lb.deleted = true
		mg.mu.Lock()
		delete(mg.lbs, lbID)
		mg.mu.Unlock()
		return os.RemoveAll(lb.paths.Dir)
	})
	if errors.Is(err, errNotFound) {
		return nil
	}
	return err
}

// close stops every HAProxy (the agent is exiting: no orphans).
func (mg *manager) close() {
	mg.closed.Store(true)
	var wg sync.WaitGroup
	for _, lb := range mg.snapshot() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lb.mu.Lock()
			defer lb.mu.Unlock()
			mg.stop(lb)
		}()
	}
	wg.Wait()
}

// lbState is GET /1.0/loadbalancer/{lb_id}/status.
type lbState struct {
	ID        string     `json:"lb_id"`
	Status    string     `json:"status"` // ACTIVE (running) or OFFLINE
	Running   bool       `json:"running"`
	PID       int        `json:"pid,omitempty"`
	Version   int64      `json:"version"`
	ConfigMD5 string     `json:"config_md5"`
	Listeners []listener `json:"listeners"`
}

// listener is an item of GET /1.0/listeners (Octavia's keys).
type listener struct {
	Status string `json:"status"`
	UUID   string `json:"uuid"`
	Type   string `json:"type"`
}

func (mg *manager) status(lbID string) (st lbState, err error) {
	err = mg.with(lbID, false, func(lb *lbProc) error {
		body, err := os.ReadFile(lb.paths.Config)
		if err != nil {
			return errNotFound
		}
		st = lbState{ID: lb.id, Status: "OFFLINE", Running: lb.running(), Listeners: listenersOf(body, lb.running())}
		if st.Running {
			st.Status, st.PID = "ACTIVE", lb.m.pid
		}
		sum := md5.Sum(body) //nolint:gosec
		st.ConfigMD5 = hex.EncodeToString(sum[:])
		st.Version, err = readVersion(lb.paths.Version)
		return err
	})
	return st, err
}

// config returns the configuration on disk (GET .../haproxy).
func (mg *manager) config(lbID string) (body []byte, err error) {
	err = mg.with(lbID, false, func(lb *lbProc) error {
		body, err = os.ReadFile(lb.paths.Config)
		if err != nil {
			return errNotFound
		}
		return nil
	})
	return body, err
}

// listeners lists the listeners of every load balancer (Octavia's
// get_all_listeners_status, read from the configurations), ACTIVE when
// their HAProxy runs.
func (mg *manager) listeners() []listener {
	out := []listener{}
	for _, lb := range mg.snapshot() {
		lb.mu.Lock()
		body, err := os.ReadFile(lb.paths.Config)
		running := lb.running()
		lb.mu.Unlock()
		if err == nil {
			out = append(out, listenersOf(body, running)...)
		}
	}
	return out
}

func listenersOf(body []byte, running bool) []listener {
	status := "OFFLINE"
	if running {
		status = "ACTIVE"
	}
	out := []listener{}
	for _, f := range parseConfig(body).frontends {
		out = append(out, listener{Status: status, UUID: f.name, Type: f.mode})
	}
	return out
}

// runningCount is Octavia's haproxy_count.
func (mg *manager) runningCount() int {
	n := 0
	for _, lb := range mg.snapshot() {
		lb.mu.Lock()
		if lb.running() {
			n++
		}
		lb.mu.Unlock()
	}
	return n
}

// heartbeat reads every running HAProxy's stats socket into a message
// (Octavia's build_stats_message): listener status and counter deltas,
// pool and member status. A HAProxy that does not answer is left out.
func (mg *manager) heartbeat(ctx context.Context) (heartbeat.Message, error) {
	msg := heartbeat.Message{Listeners: map[string]heartbeat.Listener{}, Pools: map[string]heartbeat.Pool{}}
	for _, lb := range mg.snapshot() {
		mg.collect(ctx, lb, &msg)
	}
	return msg, nil
}

func (mg *manager) collect(ctx context.Context, lb *lbProc, msg *heartbeat.Message) {
	// Under the lock: a reload folds counters from the same baselines.
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if !lb.running() {
		return
	}
	rows, err := showStat(ctx, lb.m.statsSocket)
	if err != nil {
		mg.log.Debug("heartbeat: no stats", "lb_id", lb.id, "err", err)
		return
	}
	st := statusFromRows(rows)
	for id, l := range st.listeners {
		d := mg.ctrs.delta(lb.id, id, l.total)
		msg.Listeners[id] = heartbeat.Listener{Status: l.status, Stats: heartbeat.Stats{
			TX: d.bout, RX: d.bin, Conns: l.conns, TotConns: d.stot, EReq: d.ereq,
		}}
	}
	for k, p := range st.pools {
		msg.Pools[k] = p
	}
}
