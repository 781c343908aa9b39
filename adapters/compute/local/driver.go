// Package local is the compute driver of amphorae that run on this machine:
// an amphora is an `octavia-es amphora-agent` process with its own agent
// port on 127.0.0.1 and its own working directory <base_dir>/<amphora id>/
// (agent.yaml, its server certificate and key, the CA, amphora.json,
// agent.pid, agent.log, and the HAProxy files under haproxy/).
//
// Boot = the process started and its agent answering over TLS with the
// certificate the controller CA issued for it; an agent that does not answer
// within boot_timeout is killed and the call fails, leaving nothing behind.
//
// Amphorae outlive the controller, as Octavia's do: each agent leads its own
// process group, is not tied to the controller's lifetime, and a restarted
// controller re-adopts the running ones from the pid files of their working
// directories (Status and DeleteAmphora work for them). Agents are not
// restarted: one that exits unexpectedly is logged, whatever remains of its
// process group is killed — the amphora failed as a whole, as a VM would
// (the agent also makes the HAProxy processes it runs die with it) — and
// Status reports ERROR (SHUTOFF for a clean exit). The health manager
// notices the missing heartbeats and fails the amphora over.
// StopAll stops every agent (tests; a controller that wants no survivors).
package local

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/octavia-es/octavia-es/adapters/compute"
)

var _ compute.Driver = (*Driver)(nil)

// computeNamespace makes compute ids a function of the amphora id, so a
// create retried after a restart finds the instance it started.
var computeNamespace = uuid.MustParse("5b1e7f0a-3c2d-4e8f-9a6b-7c0d1e2f3a4b")

// amphoraIDPattern keeps an amphora id a safe single path element.
var amphoraIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)

// adoptedPoll is how often an adopted agent (not our child) is checked.
const adoptedPoll = 250 * time.Millisecond

// Driver is the local compute driver. Safe for concurrent use.
type Driver struct {
	cfg    Config
	ca     CA
	caPEM  []byte
	prober prober
	log    *slog.Logger

	closeOnce sync.Once
	closed    chan struct{} // ends the watches of adopted agents

	mu        sync.Mutex
	instances map[string]*instance // compute id -> instance
	ports     map[int]string       // agent port -> amphora id
}

// instance is one amphora. op serialises its creation and deletion.
type instance struct {
	amphoraID, computeID, dir string // immutable

	op sync.Mutex
	st state // guarded by op

	// Guarded by Driver.mu.
	proc  *process // nil until started
	ready bool     // the agent answered (or was adopted)
	port  int      // the agent port held in Driver.ports; 0: none
	gone  bool     // forgotten: a caller holding it must look again
}

// New returns a driver, adopting the amphorae found under cfg.BaseDir: a
// running agent is watched again, a dead one is kept (Status ERROR) until
// deleted, a working directory of a boot that never started its agent is
// removed.
func New(cfg Config, deps Deps) (*Driver, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if deps.CA == nil {
		return nil, errors.New("local compute: a CA is required")
	}
	caPEM := deps.CA.CACertPEM()
	if block, _ := pem.Decode(caPEM); block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("local compute: the CA certificate is not a PEM certificate")
	}
	pool := deps.CA.CertPool()
	if pool == nil {
		return nil, errors.New("local compute: the CA has no certificate pool")
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.BaseDir, 0o700); err != nil {
		return nil, fmt.Errorf("local compute: %w", err)
	}
	d := &Driver{
		cfg:       cfg,
		ca:        deps.CA,
		caPEM:     caPEM,
		prober:    prober{pool: pool, client: deps.ClientCert},
		log:       deps.Log,
		closed:    make(chan struct{}),
		instances: map[string]*instance{},
		ports:     map[int]string{},
	}
	if err := d.adoptAll(); err != nil {
		return nil, fmt.Errorf("local compute: %w", err)
	}
	return d, nil
}

// ComputeID is the compute id of an amphora.
func ComputeID(amphoraID string) string {
	return uuid.NewSHA1(computeNamespace, []byte(amphoraID)).String()
}

// CreateAmphora implements compute.Driver. A second call for a running
// amphora returns it; for one whose agent died it boots it again (the
// caller asked for a running amphora; nothing restarts one on its own).
func (d *Driver) CreateAmphora(ctx context.Context, req compute.AmphoraRequest) (compute.Amphora, error) {
	if err := ctx.Err(); err != nil {
		return compute.Amphora{}, fmt.Errorf("local compute: create amphora: %w", err)
	}
	if !amphoraIDPattern.MatchString(req.AmphoraID) {
		return compute.Amphora{}, fmt.Errorf("local compute: create amphora: invalid amphora id %q", req.AmphoraID)
	}
	computeID := ComputeID(req.AmphoraID)
	for {
		inst := d.entry(computeID, req.AmphoraID)
		inst.op.Lock()
		if d.isGone(inst) { // deleted, or a failed boot, while we waited
			inst.op.Unlock()
			continue
		}
		amp, err := d.ensureRunning(ctx, inst, req)
		inst.op.Unlock()
		return amp, err
	}
}

func (d *Driver) ensureRunning(ctx context.Context, inst *instance, req compute.AmphoraRequest) (compute.Amphora, error) {
	d.mu.Lock()
	proc, ready := inst.proc, inst.ready
	d.mu.Unlock()
	if proc != nil && ready && !proc.exited() {
		return inst.st.amphora(), nil
	}
	if proc != nil {
		d.log.WarnContext(ctx, "amphora agent is not running; booting it again",
			"amphora_id", req.AmphoraID, "exit", proc.exit)
		if err := d.teardown(ctx, inst); err != nil {
			return compute.Amphora{}, fmt.Errorf("local compute: amphora %s: %w", req.AmphoraID, err)
		}
	}
	amp, err := d.boot(ctx, inst, req)
	if err != nil {
		d.forget(inst)
		return compute.Amphora{}, fmt.Errorf("local compute: boot amphora %s: %w", req.AmphoraID, err)
	}
	return amp, nil
}

// DeleteAmphora implements compute.Driver: SIGTERM to the amphora's process
// group, SIGKILL after stop_timeout, then its working directory is removed.
func (d *Driver) DeleteAmphora(ctx context.Context, computeID string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("local compute: delete amphora: %w", err)
	}
	d.mu.Lock()
	inst := d.instances[computeID]
	d.mu.Unlock()
	if inst == nil {
		return nil
	}
	inst.op.Lock()
	defer inst.op.Unlock()
	if d.isGone(inst) {
		return nil
	}
	if err := d.teardown(ctx, inst); err != nil {
		return fmt.Errorf("local compute: delete amphora %s: %w", inst.amphoraID, err)
	}
	d.forget(inst)
	d.log.InfoContext(ctx, "amphora deleted", "amphora_id", inst.amphoraID, "compute_id", computeID)
	return nil
}

// Status implements compute.Driver: ONLINE while the agent runs, OFFLINE
// while it boots, ERROR (SHUTOFF: clean exit) once it stopped on its own.
func (d *Driver) Status(ctx context.Context, computeID string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("local compute: status: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	inst := d.instances[computeID]
	if inst == nil {
		return "", fmt.Errorf("%s: %w", computeID, compute.ErrAmphoraNotFound)
	}
	switch {
	case inst.proc == nil || !inst.ready:
		return compute.StatusOffline, nil
	case !inst.proc.exited():
		return compute.StatusOnline, nil
	case inst.proc.clean:
		return compute.StatusShutoff, nil
	default:
		return compute.StatusError, nil
	}
}

// StopAll stops every agent this driver started or adopted, leaving their
// working directories (a later driver finds them dead: Status ERROR until
// deleted). For tests, and for a controller that wants no amphora to
// outlive it.
func (d *Driver) StopAll(ctx context.Context) error {
	d.mu.Lock()
	all := make([]*instance, 0, len(d.instances))
	for _, inst := range d.instances {
		all = append(all, inst)
	}
	d.mu.Unlock()
	var errs []error
	for _, inst := range all {
		d.mu.Lock()
		proc := inst.proc
		d.mu.Unlock()
		if proc != nil {
			if err := proc.stop(ctx, d.cfg.StopTimeout); err != nil {
				errs = append(errs, fmt.Errorf("amphora %s: %w", inst.amphoraID, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Close ends the driver's watches of adopted agents; agents keep running.
// Call StopAll, if at all, before Close: a closed driver no longer sees an
// adopted agent exit.
func (d *Driver) Close() error {
	d.closeOnce.Do(func() { close(d.closed) })
	return nil
}

// entry returns the instance of computeID, creating an empty one.
func (d *Driver) entry(computeID, amphoraID string) *instance {
	d.mu.Lock()
	defer d.mu.Unlock()
	inst := d.instances[computeID]
	if inst == nil {
		inst = &instance{amphoraID: amphoraID, computeID: computeID, dir: filepath.Join(d.cfg.BaseDir, amphoraID)}
		d.instances[computeID] = inst
	}
	return inst
}

func (d *Driver) isGone(inst *instance) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return inst.gone
}

// forget drops an instance and frees its port.
func (d *Driver) forget(inst *instance) {
	d.mu.Lock()
	defer d.mu.Unlock()
	inst.gone = true
	if d.instances[inst.computeID] == inst {
		delete(d.instances, inst.computeID)
	}
	d.freePort(inst)
}

// freePort releases the port of inst. Called with d.mu held.
func (d *Driver) freePort(inst *instance) {
	if inst.port != 0 && d.ports[inst.port] == inst.amphoraID {
		delete(d.ports, inst.port)
	}
	inst.port = 0
}

// teardown stops the agent (if any) and removes the working directory.
func (d *Driver) teardown(ctx context.Context, inst *instance) error {
	d.mu.Lock()
	proc := inst.proc
	d.mu.Unlock()
	if proc != nil {
		if err := proc.stop(ctx, d.cfg.StopTimeout); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(inst.dir); err != nil {
		return fmt.Errorf("remove working directory: %w", err)
	}
	d.mu.Lock()
	inst.proc, inst.ready = nil, false
	d.freePort(inst)
	d.mu.Unlock()
	return nil
}

// onExit logs an agent's exit unless it was asked for.
func (d *Driver) onExit(amphoraID, dir string) func(*process) {
	return func(p *process) {
		if p.expected.Load() {
			return
		}
		d.log.Error("amphora agent exited unexpectedly; not restarting it (the health manager fails the amphora over)",
			"amphora_id", amphoraID, "pid", p.pid, "exit", p.exit, "log_tail", logTail(filepath.Join(dir, logFile)))
	}
}
