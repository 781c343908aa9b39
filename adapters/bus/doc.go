// Package bus carries stored events to the process managers: a Forwarder
// follows the event store from a checkpoint and publishes every envelope on
// a watermill topic; a router runs the consumers with retry, panic
// recovery and a poison queue. Open picks the transport by Config:
// GoChannel (embedded, the default), NATS JetStream, RabbitMQ or
// PostgreSQL (sub-packages memory, nats, amqp, postgres); RunWithLease
// keeps one forwarder running across processes. docs/bus.md has the
// delivery contract, the layout on each broker and figures.
//
// # Delivery
//
// At least once. The forwarder publishes an event before it advances its
// checkpoint, so a crash republishes the tail. Consumers must treat a
// message as a trigger ("load balancer X may have work"), reload the state
// they need and be idempotent; none may rely on the order of messages.
//
// # The embedded bus: watermill GoChannel, non-blocking
//
// GoChannel with BlockPublishUntilSubscriberAck=true would give order and
// back-pressure, but its Publish holds a per-topic lock until the consumer
// acks: one message in flight for the whole process, so every saga (an
// amphora boot takes minutes on a real cloud) would wait for the one before.
// Non-blocking publishing lets the router run one handler per message
// concurrently; the price, accepted:
//   - order is not kept (consumers don't rely on it, see above);
//   - the checkpoint advances once the in-memory publish returns, so a
//     message in flight when the process dies is lost: the worker re-kicks
//     every load balancer the read model shows in PENDING_* at start-up
//     (sagas.Resume), which is what made those messages matter;
//   - back-pressure is the consumer's: the provisioning saga bounds how
//     many run at once. A broker replaces GoChannel in a scaled
//     deployment, with durable consumer groups and real acks.
//
// GoChannel drops messages published while no handler is subscribed: start
// the router first and give the forwarder router.Running() as Ready.
//
// # Why a plain router handler, not components/cqrs
//
// cqrs's EventProcessor routes by an event name its marshaler derives from
// the Go type and decodes each payload itself. Our messages are stored
// envelopes that already carry a stable type name, a schema version and
// upcasters (events.Registry), and the saga needs only the stream of each.
// cqrs would add a second naming and decoding scheme for nothing, so
// consumers are plain router handlers built with EnvelopeHandler.
package bus
