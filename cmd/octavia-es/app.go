package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/octavia-es/octavia-es/adapters/amphora/heartbeat"
	"github.com/octavia-es/octavia-es/adapters/bus"
	"github.com/octavia-es/octavia-es/adapters/metrics"
	"github.com/octavia-es/octavia-es/adapters/network"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/http/healthcheck"
	v2 "github.com/octavia-es/octavia-es/http/v2"
	"github.com/octavia-es/octavia-es/projections"
	"github.com/octavia-es/octavia-es/sagas"
	"github.com/octavia-es/octavia-es/sagas/health"
)

// pendingSweepInterval: how often the worker re-drives load balancers the
// read model shows in PENDING_* (a bus message dropped after its retries
// must not leave one stuck until the next restart).
const pendingSweepInterval = 15 * time.Second

// app is one process's components: all of them for serve (the embedded
// default), those of its roles for api, worker and health-manager.
type app struct {
	log       *slog.Logger
	proc      process
	store     *sharedStore
	readModel *projections.ReadModel
	projector *projections.Projector
	// projectorLease elects the one process projecting a shared
	// (PostgreSQL) read model; nil: this process's own SQLite file.
	projectorLease bus.Lease
	drivers        drivers
	network        vipNetwork
	health         *health.Manager
	receiver       *heartbeat.Receiver
	vips           *gatedVIPs // the API's VIP allocations, open once reserveVIPs ran
	prov           *sagas.Provisioner
	pubsub         *gochannel.GoChannel // serve's and the SQLite worker's in-process bus
	bus            *bus.Bus             // a broker's (bus.transport other than gochannel)
	sub            message.Subscriber   // the worker's, in its consumer group
	router         *message.Router
	forwarder      *bus.Forwarder
	lease          bus.Lease
	handler        http.Handler
	metrics        *metrics.Metrics
	healthchk      http.Handler  // /healthcheck (nil: disabled)
	certs          *certRotation // housekeeping (nil: not this process's role)
	wg             sync.WaitGroup
}

func openApp(ctx context.Context, cfg Config, log *slog.Logger, proc process) (_ *app, err error) {
	a := &app{log: log, proc: proc} // closed on failure: the named result is nil by then
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	if a.store, err = openStore(ctx, cfg, log); err != nil {
		return nil, fmt.Errorf("open event store: %w", err)
	}
	if a.readModel, a.projectorLease, err = openReadModel(ctx, cfg, proc, log); err != nil {
		return nil, fmt.Errorf("open read model: %w", err)
	}
	reg := events.NewRegistry()
	a.projector = projections.NewProjector(a.readModel, a.store, reg, log.With("component", "projector"))
	a.metrics = metrics.New(proc.name)
	a.metrics.WatchProjectionLag(a.store, a.readModel)
	a.metrics.WatchAmphorae(amphoraeByStatus(a.readModel))
	if cfg.API.HealthcheckEnabled {
		a.healthchk = healthcheck.New(healthcheck.Config{
			Refresh: cfg.API.HealthcheckRefreshInterval, Detailed: cfg.API.HealthcheckDetailed,
		}, healthChecks(a.store, a.readModel)...)
	}
	commands := loadbalancer.NewHandler(a.metrics.CountAppends(a.store), reg, log.With("component", "commands"))

	if a.drivers, err = openDrivers(ctx, cfg, log); err != nil {
		return nil, err
	}
	a.network = a.drivers.network
	a.vips = newGatedVIPs(a.network)
	a.prov, err = sagas.NewProvisioner(commands, sagas.Drivers{
		Network: a.drivers.network, Compute: a.drivers.compute, Amphora: a.drivers.amphora,
		NetworkName: cfg.Drivers.Network, ComputeName: cfg.Drivers.Compute, AmphoraName: cfg.Drivers.Amphora,
	}, sagas.Config{
		StepAttempts: cfg.Sagas.StepAttempts, StepBackoff: cfg.Sagas.StepBackoff,
		AgentConfig: a.drivers.agentConfig, Observer: a.metrics,
	}, log.With("component", "sagas"))
	if err != nil {
		return nil, fmt.Errorf("sagas: %w", err)
	}

	if a.drivers.heartbeats && proc.has(roleHealth) {
		if a.health, err = health.New(commands, a.readModel, health.Config{
			HeartbeatTimeout:  cfg.HealthManager.HeartbeatTimeout,
			CheckInterval:     cfg.HealthManager.HealthCheckInterval,
			FailoverThreshold: cfg.HealthManager.FailoverThreshold,
		}, log.With("component", "health-manager")); err != nil {
			return nil, fmt.Errorf("health manager: %w", err)
		}
		hm := a.health
		a.receiver, err = heartbeat.NewReceiver(cfg.HealthManager.Listen, a.drivers.heartbeatKey,
			func(ctx context.Context, m heartbeat.Message, _ netip.AddrPort) { _ = hm.HandleHeartbeat(ctx, m) },
			log.With("component", "heartbeat"))
		if err != nil {
			return nil, fmt.Errorf("health manager: listen for heartbeats on %s: %w", cfg.HealthManager.Listen, err)
		}
	}

	if proc.has(roleHousekeeping) {
		a.certs = newCertRotation(cfg.Housekeeping, a.drivers, readModelAmphorae(a.readModel, commands),
			a.metrics, log.With("component", "housekeeping"))
	}

	if proc.has(roleWorker) { // a router that never ran blocks in Close
		if err := a.openBus(ctx, cfg, log); err != nil {
			return nil, err
		}
	}

	a.handler, err = newHTTPHandler(cfg, v2.Deps{
		Commands: commands, ReadModel: a.readModel, Events: a.store,
		Subnets: v2.NetworkSubnets(a.network), VIPs: a.vips, Logger: log.With("component", "api"),
		History: a.store, Registry: reg, Shutdown: ctx.Done(), // event streams end when serve stops
	}, certChecker(a.drivers), a.healthchk, a.metrics)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	return a, nil
}

// certChecker is the drivers' certificate manager as the API checks
// references with it (a nil manager is no checker, not a nil-pointer one).
func certChecker(d drivers) v2.CertificateChecker {
	if d.certificates == nil {
		return nil
	}
	return d.certificates
}

// run starts the projector, the bus and the sagas and returns the first
// error of a component that stopped on its own (nil when ctx ends).
func (a *app) run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	goRun := func(name string, fn func(context.Context) error) {
		a.wg.Go(func() {
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				cancel(fmt.Errorf("%s: %w", name, err))
			}
		})
	}
	goRun("projector", a.runProjector)
	if a.proc.has(roleWorker) {
		goRun("bus router", a.router.Run)
		if a.lease != nil {
			goRun("forwarder", func(ctx context.Context) error { return a.forwarder.RunWithLease(ctx, a.lease) })
		} else {
			goRun("forwarder", a.forwarder.Run) // one process forwards: a failure stops it, as it always did
		}
	}
	goRun("sagas", a.resumeAndSweep)
	if a.receiver != nil {
		goRun("heartbeat receiver", a.receiver.Run)
	}
	if a.certs != nil {
		goRun("housekeeping", a.certs.run)
	}
	<-ctx.Done()
	if a.router != nil {
		_ = a.router.Close()
	}
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// resumeAndSweep waits for the read model to catch up with the store, puts
// back the VIPs the events hold (the network drivers keep them in
// memory) before the API may allocate new ones, then drives every load
// balancer left in PENDING_* to its end — at start-up and then periodically.
func (a *app) resumeAndSweep(ctx context.Context) error {
	head, err := a.store.Head(ctx)
	if err != nil {
		return err
	}
	if err := a.readModel.WaitFor(ctx, head); err != nil {
		return err
	}
	if a.proc.has(roleAPI | roleWorker) { // the processes allocating VIPs
		if err := a.reserveVIPs(ctx); err != nil {
			return err
		}
	}
	if a.health != nil {
		// Only once the read model knows every amphora: the manager seeds
		// its last-seen times from it.
		a.wg.Go(func() {
			if err := a.health.Run(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("health manager stopped", "err", err)
			}
		})
	}
	a.vips.open()
	if !a.proc.has(roleWorker) {
		return nil
	}
	tick := time.NewTicker(pendingSweepInterval)
	defer tick.Stop()
	for {
		ids, err := a.readModel.PendingLoadBalancers(ctx)
		if err != nil {
			return err
		}
		if len(ids) > 0 {
			a.log.Info("resuming load balancers in PENDING_*", "count", len(ids))
			if err := a.prov.Resume(ctx, ids); err != nil && ctx.Err() == nil {
				a.log.Error("resume", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (a *app) reserveVIPs(ctx context.Context) error {
	if a.drivers.sharedVIPs { // the shared ledger holds them already
		return nil
	}
	page, err := a.readModel.ListLoadBalancers(ctx, projections.ListOptions{})
	if err != nil {
		return fmt.Errorf("list load balancers: %w", err)
	}
	for _, lb := range page.Items {
		if lb.VipAddress == nil || lb.VipSubnetID == nil || lb.VipPortID == nil {
			continue
		}
		vip := network.VIP{Address: *lb.VipAddress, PortID: *lb.VipPortID, SubnetID: *lb.VipSubnetID}
		if lb.VipNetworkID != nil {
			vip.NetworkID = *lb.VipNetworkID
		}
		if err := a.network.Reserve(ctx, lb.ID, vip); err != nil {
			a.log.Warn("cannot reserve VIP of load balancer", "loadbalancer_id", lb.ID, "err", err)
		}
	}
	return nil
}

func (a *app) wait() { a.wg.Wait() }

func (a *app) close() {
	if a.router != nil {
		_ = a.router.Close()
	}
	if a.sub != nil {
		_ = a.sub.Close()
	}
	if a.pubsub != nil {
		_ = a.pubsub.Close()
	}
	if a.bus != nil {
		_ = a.bus.Close()
	}
	if a.drivers.close != nil {
		a.drivers.close()
	}
	if a.readModel != nil {
		_ = a.readModel.Close()
	}
	if a.store != nil {
		_ = a.store.Close()
	}
}
