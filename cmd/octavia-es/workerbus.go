package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/octavia-es/octavia-es/adapters/bus"
	buspg "github.com/octavia-es/octavia-es/adapters/bus/postgres"
)

// forwarderLeaseName: every process forwarding one event store competes
// for this lease.
const forwarderLeaseName = "forwarder"

// openBus sets up the worker's side of the bus: the transport, a router
// consuming in the configured group (poison queue after bus.retries on a
// broker), and the forwarder with its lease (none when local: one process, one
// forwarder).
func (a *app) openBus(ctx context.Context, cfg Config, log *slog.Logger) error {
	var (
		pub  message.Publisher
		sub  message.Subscriber
		rcfg = cfg.Bus.router()
	)
	topic := cfg.Bus.Topic
	if cfg.Bus.Transport == bus.TransportGoChannel {
		// As before the brokers: non-blocking in-process bus, given-up
		// messages logged (the pending sweep re-drives their sagas).
		a.pubsub = bus.NewGoChannel(log)
		pub, sub = a.pubsub, a.pubsub
	} else {
		b, err := bus.Open(ctx, cfg.Bus.bus(), log)
		if err != nil {
			return err
		}
		a.bus = b
		if a.sub, err = b.Subscriber(""); err != nil {
			return err
		}
		pub, sub, topic = b.Publisher(), a.sub, b.Topic()
		rcfg.Poison = b.Publisher()
	}
	var err error
	if a.router, err = bus.NewRouter(rcfg, log); err != nil {
		return fmt.Errorf("bus router: %w", err)
	}
	a.router.AddMiddleware(a.metrics.CountRedeliveries()) // inside the router's retry: sees every attempt
	a.router.AddConsumerHandler("sagas.provisioning", topic, sub, bus.EnvelopeHandler(a.prov.HandleEnvelope, log))
	a.forwarder = bus.NewForwarder(a.store, a.store.checkpoints, pub, topic, log.With("component", "forwarder"))
	a.forwarder.Ready = a.router.Running()
	if cfg.leaseKind() == leasePostgres {
		a.lease = buspg.NewLease(cfg.Store.PostgresDSN, forwarderLeaseName+"."+cfg.Store.PostgresSchema, log.With("component", "lease"))
	}
	return nil
}
