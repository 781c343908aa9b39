// Package amqp is the bus over RabbitMQ, with watermill-amqp's publisher
// and subscriber.
//
// Layout: one durable topic exchange; per watermill topic T and consumer
// group G a durable queue "T.G" bound to the exchange with routing key T.
// A message published on T is copied into every group's queue (each group
// gets every message); the consumers of one queue (any number of processes)
// share it, RabbitMQ giving each an unacknowledged message at a time
// (prefetch 1), so a long handler never holds back messages another worker
// could take. Messages are persistent and publishes wait for the broker's
// confirmation. A message published before a group's queue exists is lost,
// so the queues of the known groups are declared at start-up (Declare).
//
// A nacked message is requeued at once; a delivery whose consumer dies (or
// outlives RabbitMQ's consumer_timeout, 30 min by default) is requeued by
// the broker.
package amqp

import (
	"context"
	"errors"
	"fmt"

	"github.com/ThreeDotsLabs/watermill"
	wmamqp "github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	"github.com/ThreeDotsLabs/watermill/message"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// Config of the transport.
type Config struct {
	URL      string
	Exchange string
}

// Transport holds the publisher's connection; each subscriber has its own.
type Transport struct {
	cfg  Config
	log  watermill.LoggerAdapter
	conn *wmamqp.ConnectionWrapper
	pub  *wmamqp.Publisher
}

// QueueName is the queue of group on topic.
func QueueName(topic, group string) string { return topic + "." + group }

// Open connects to the broker.
func Open(_ context.Context, cfg Config, log watermill.LoggerAdapter) (*Transport, error) {
	if cfg.URL == "" || cfg.Exchange == "" {
		return nil, errors.New("amqp: url and exchange required")
	}
	if log == nil {
		log = watermill.NopLogger{}
	}
	conn, err := wmamqp.NewConnection(wmamqp.ConnectionConfig{AmqpURI: cfg.URL, Reconnect: wmamqp.DefaultReconnectConfig()}, log)
	if err != nil {
		return nil, fmt.Errorf("amqp: connect: %w", err)
	}
	t := &Transport{cfg: cfg, log: log, conn: conn}
	pub, err := wmamqp.NewPublisherWithConnection(t.config(""), log, conn)
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("amqp: publisher: %w", err)
	}
	t.pub = pub
	return t, nil
}

// config is watermill's durable topic-exchange configuration with one
// queue per (topic, group).
func (t *Transport) config(group string) wmamqp.Config {
	c := wmamqp.NewDurableTopicConfig(t.cfg.URL, t.cfg.Exchange, "")
	c.Exchange.Durable = true
	c.Queue.GenerateName = func(topic string) string { return QueueName(topic, group) }
	c.Marshaler = marshaler{}
	c.Publish.ConfirmDelivery = true
	c.Publish.ChannelPoolSize = 4
	c.Consume.Qos.PrefetchCount = 1
	c.Connection.Reconnect = wmamqp.DefaultReconnectConfig()
	return c
}

// Publisher publishes persistent messages and waits for the confirms.
func (t *Transport) Publisher() message.Publisher { return publisher{t.pub} }

type publisher struct{ p *wmamqp.Publisher }

func (p publisher) Publish(topic string, msgs ...*message.Message) error {
	if err := p.p.Publish(topic, msgs...); err != nil {
		return fmt.Errorf("amqp: publish on %s: %w", topic, err)
	}
	return nil
}

func (p publisher) Close() error { return nil } // the transport owns it

// Declare creates the exchange and group's queue on topic, bound.
func (t *Transport) Declare(_ context.Context, topic, group string) error {
	if !t.conn.IsConnected() {
		return errors.New("amqp: declare: not connected")
	}
	ch, err := t.conn.Connection().Channel()
	if err != nil {
		return fmt.Errorf("amqp: declare: channel: %w", err)
	}
	defer func() { _ = ch.Close() }()
	c := t.config(group)
	err = c.TopologyBuilder.BuildTopology(ch, wmamqp.BuildTopologyParams{
		Topic: topic, QueueName: QueueName(topic, group), ExchangeName: t.cfg.Exchange, RoutingKey: topic,
	}, c, t.log)
	if err != nil {
		return fmt.Errorf("amqp: declare queue %s: %w", QueueName(topic, group), err)
	}
	return nil
}

// Subscriber returns a subscriber in group with its own connection; each
// Subscribe call opens a channel that holds one delivery at a time.
func (t *Transport) Subscriber(group string) (message.Subscriber, error) {
	if group == "" {
		return nil, errors.New("amqp: consumer group required")
	}
	sub, err := wmamqp.NewSubscriber(t.config(group), t.log)
	if err != nil {
		return nil, fmt.Errorf("amqp: subscriber: %w", err)
	}
	return sub, nil
}

// Close closes the publisher and its connection.
func (t *Transport) Close() error {
	return errors.Join(t.pub.Close(), t.conn.Close())
}

// marshaler is watermill's DefaultMarshaler (persistent messages, metadata
// in headers) that never fails to decode: a delivery it cannot read comes
// out as a message with its raw body, so the handler drops it (and it is
// acked) instead of the broker requeueing it forever. (DefaultMarshaler
// also panics on a delivery without headers.)
type marshaler struct{ wmamqp.DefaultMarshaler }

func (m marshaler) Unmarshal(d amqp091.Delivery) (*message.Message, error) {
	if len(d.Headers) > 0 {
		if msg, err := m.DefaultMarshaler.Unmarshal(d); err == nil {
			return msg, nil
		}
	}
	return message.NewMessage(d.MessageId, d.Body), nil
}
