package sagas

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/octavia-es/octavia-es/adapters/amphora"
	"github.com/octavia-es/octavia-es/adapters/compute"
	"github.com/octavia-es/octavia-es/adapters/network"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
)

// Executor is what the provisioner needs of the load balancer aggregate
// (loadbalancer.Executor, implemented by *loadbalancer.Handler).
type Executor interface {
	Execute(ctx context.Context, loadBalancerID string, cmd loadbalancer.Command, md events.Metadata) (loadbalancer.Result, error)
	Load(ctx context.Context, loadBalancerID string) (loadbalancer.State, error)
}

// Drivers are the capabilities a provisioner drives. The names are
// recorded with every amphora (Octavia's compute_driver, ...).
type Drivers struct {
	Network network.Driver
	Compute compute.Driver
	Amphora amphora.Driver

	NetworkName, ComputeName, AmphoraName string
}

// Config tunes the provisioner. Zero fields take the defaults.
type Config struct {
	// StepAttempts: tries of one driver call before the step fails and the
	// operation is compensated. Default 3.
	StepAttempts int
	// StepBackoff: wait after the first failed try, doubling up to
	// MaxStepBackoff. Defaults 500 ms and 10 s.
	StepBackoff    time.Duration
	MaxStepBackoff time.Duration
	// AmphoraConnectTimeout: how long a booted amphora's agent may take to
	// answer. Default 2 min.
	AmphoraConnectTimeout time.Duration
	// MaxConcurrent: load balancers worked on at once. Default 16.
	MaxConcurrent int
	// MaxSteps guards against a step that records no progress. Default 64.
	MaxSteps int
	// AgentConfig is what an amphora agent configuration update pushes
	// (Octavia renders it from [health_manager] when it pushes): the
	// controller's current heartbeat targets, interval and key.
	AgentConfig amphora.AgentConfig
	// Observer is told of every step run (metrics); nil: none.
	Observer Observer
}

// Observer watches saga steps (adapters/metrics.Metrics is one): each step
// of operation with its duration; failed: it failed after its retries and
// was compensated.
type Observer interface {
	StepDone(operation, step string, d time.Duration, failed bool)
}

func (c *Config) setDefaults() {
	if c.StepAttempts <= 0 {
		c.StepAttempts = 3
	}
	if c.StepBackoff <= 0 {
		c.StepBackoff = 500 * time.Millisecond
	}
	if c.MaxStepBackoff < c.StepBackoff {
		c.MaxStepBackoff = max(10*time.Second, c.StepBackoff)
	}
	if c.AmphoraConnectTimeout <= 0 {
		c.AmphoraConnectTimeout = 2 * time.Minute
	}
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = 16
	}
	if c.MaxSteps <= 0 {
		c.MaxSteps = 64
	}
}

// ErrNoProgress: a step's outcome command recorded nothing, so running
// the same step again would loop.
var ErrNoProgress = errors.New("sagas: step recorded no progress")

// Provisioner is the provisioning process manager: it drives a load
// balancer's pending operation to its end, one step at a time (see doc.go).
// Safe for concurrent use.
type Provisioner struct {
	exec  Executor
	d     Drivers
	cfg   Config
	log   *slog.Logger
	locks *keyedMutex
	slots chan struct{}
}

// NewProvisioner returns a provisioner; every driver is required.
func NewProvisioner(exec Executor, d Drivers, cfg Config, log *slog.Logger) (*Provisioner, error) {
	if exec == nil || d.Network == nil || d.Compute == nil || d.Amphora == nil {
		return nil, errors.New("sagas: provisioner needs an executor and network, compute and amphora drivers")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.setDefaults()
	return &Provisioner{
		exec: exec, d: d, cfg: cfg, log: log,
		locks: newKeyedMutex(),
		slots: make(chan struct{}, cfg.MaxConcurrent),
	}, nil
}

// Handle runs the steps of the load balancer's pending operation until
// none is left. md is the metadata of the outcome events (causation: the
// triggering event). Steps of one load balancer never run concurrently in
// this process; across processes the store's optimistic concurrency and
// the idempotent drivers and outcome commands make a duplicate harmless.
//
// A driver failure is retried, then compensated and recorded, and Handle
// returns nil: the failure is an outcome. An error is returned when the
// store fails or ctx ends (then nothing is compensated: the operation is
// left pending for a redelivery or Resume).
func (p *Provisioner) Handle(ctx context.Context, loadBalancerID string, md events.Metadata) error {
	if loadBalancerID == "" {
		return nil
	}
	unlock, err := p.locks.lock(ctx, loadBalancerID)
	if err != nil {
		return err
	}
	defer unlock()
	select { // per-LB lock first: a busy LB must not hold a slot while it waits
	case p.slots <- struct{}{}:
		defer func() { <-p.slots }()
	case <-ctx.Done():
		return ctx.Err()
	}

	s, err := p.exec.Load(ctx, loadBalancerID)
	if err != nil {
		return fmt.Errorf("sagas: load %s: %w", loadBalancerID, err)
	}
	for n := 0; n < p.cfg.MaxSteps; n++ {
		step := Next(s)
		if step.Kind == None {
			if n > 0 {
				p.log.InfoContext(ctx, "saga done", "loadbalancer_id", loadBalancerID,
					"provisioning_status", s.LoadBalancer.ProvisioningStatus, "gone", s.Gone, "steps", n)
			}
			return nil
		}
		log := p.log.With("loadbalancer_id", loadBalancerID, "operation", step.Operation, "step", step.Kind)
		log.DebugContext(ctx, "saga step")
		started := time.Now()
		next, err := p.run(ctx, s, step, md, log)
		var failed *stepFailure
		if errors.As(err, &failed) && ctx.Err() == nil {
			log.WarnContext(ctx, "saga step failed; compensating", "error", failed.Err)
			next, err = p.compensate(ctx, next, step, failed, md, log)
		}
		if p.cfg.Observer != nil && ctx.Err() == nil {
			p.cfg.Observer.StepDone(string(step.Operation), string(step.Kind), time.Since(started), failed != nil)
		}
		if err != nil {
			return fmt.Errorf("sagas: %s %s of %s: %w", step.Operation, step.Kind, loadBalancerID, err)
		}
		if next.Version <= s.Version {
			return fmt.Errorf("%w: %s %s of %s at version %d", ErrNoProgress, step.Operation, step.Kind, loadBalancerID, s.Version)
		}
		s = next
	}
	return fmt.Errorf("%w: %s still has work after %d steps", ErrNoProgress, loadBalancerID, p.cfg.MaxSteps)
}

// HandleEnvelope is Handle for a stored event delivered by the bus
// (bus.EnvelopeHandler(p.HandleEnvelope, log)). Events of other streams
// and the outcomes this saga records itself are ignored.
func (p *Provisioner) HandleEnvelope(ctx context.Context, env events.Envelope) error {
	lbID, ok := strings.CutPrefix(env.Stream, events.StreamPrefix)
	if !ok || !Triggers(env.Type) {
		return nil
	}
	corr := env.CorrelationID
	if corr == "" {
		corr = env.ID
	}
	return p.Handle(ctx, lbID, events.Metadata{Actor: env.Actor, CorrelationID: corr, CausationID: env.ID})
}

// outcomes are the event types sagas and the health manager record: they
// never start work, so they are not worth a reload of the stream.
var outcomes = map[string]bool{
	events.VipAllocated{}.EventType():                   true,
	events.VipReleased{}.EventType():                    true,
	events.AmphoraBooted{}.EventType():                  true,
	events.AmphoraDeleted{}.EventType():                 true,
	events.ConfigurationApplied{}.EventType():           true,
	events.ConfigurationFailed{}.EventType():            true,
	events.LoadBalancerActivated{}.EventType():          true,
	events.LoadBalancerProvisioningFailed{}.EventType(): true,
	events.LoadBalancerDeleted{}.EventType():            true,
	events.OperatingStatusesChanged{}.EventType():       true,
	events.AmphoraAgentConfigUpdated{}.EventType():      true,
	events.AmphoraAgentConfigUpdateFailed{}.EventType(): true,
}

// Triggers reports whether an event of this type may start saga work.
// Unknown types do (a newer writer's intent must not be ignored).
func Triggers(eventType string) bool { return !outcomes[eventType] }
