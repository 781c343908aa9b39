package bus

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"
)

// Transports Open knows.
const (
	TransportGoChannel = "gochannel" // embedded, in-process, not durable (the default)
	TransportNATS      = "nats"      // NATS JetStream
	TransportAMQP      = "amqp"      // RabbitMQ
	TransportPostgres  = "postgres"  // PostgreSQL tables through watermill-sql
)

// DefaultConsumerGroup is the group the provisioning sagas consume in.
const DefaultConsumerGroup = "sagas"

// PoisonGroup is the group declared on the poison topic at Open, so the
// brokers keep poisoned messages until an operator reads them with
// Subscriber(PoisonGroup) on PoisonTopic.
const PoisonGroup = "poison"

// PoisonSuffix makes the poison topic of a topic.
const PoisonSuffix = ".poison"

// Config selects and tunes the transport. Zero fields take the defaults.
type Config struct {
	// Transport: gochannel (default), nats, amqp or postgres.
	Transport string
	// URL of the broker: nats://host:4222, amqp://user:pass@host:5672/,
	// postgres://... (the event store's DSN does). Unused by gochannel.
	URL string
	// Topic every stored event is published on. Default Topic.
	Topic string
	// ConsumerGroup this process's consumers join (Subscriber("")). Each
	// event is handled once per group; the workers of one group share
	// the events. Declared at Open, so the broker keeps what is published
	// before a worker of the group first starts. Default "sagas".
	ConsumerGroup string
	// Concurrency: messages one subscriber handles at once (the brokers
	// hand a subscription one unacknowledged message at a time, so a
	// subscriber opens this many). Default 16 (the sagas' MaxConcurrent).
	Concurrency int
	// MaxHandlingTime: a delivery not acknowledged by then is abandoned
	// (its handler's context is cancelled) and redelivered. Default 15 min.
	MaxHandlingTime time.Duration
	// RedeliveryDelay: how long a nacked message waits before it is
	// delivered again. Default 1 s.
	RedeliveryDelay time.Duration
	// AckWait (nats): silence after which JetStream redelivers to another
	// worker; while a handler runs its subscriber reports progress every
	// AckWait/3, so only a dead worker's messages wait this long.
	// Default 30 s.
	AckWait time.Duration
	// StreamMaxAge (nats): how long the JetStream stream keeps messages.
	// Default 7 days.
	StreamMaxAge time.Duration
	// Exchange (amqp): the durable topic exchange. Default "octavia-es".
	Exchange string
	// PollInterval (postgres): how often an idle subscriber looks for
	// new rows. Default 100 ms.
	PollInterval time.Duration
}

// names the brokers accept as subjects, routing keys and table suffixes.
var (
	topicRe = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)
	groupRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
)

// postgresMaxTopic keeps "<prefix><topic>.poison" within PostgreSQL's
// 63-byte identifiers (see adapters/bus/postgres).
const postgresMaxTopic = 40

func (c *Config) setDefaults() {
	if c.Transport == "" {
		c.Transport = TransportGoChannel
	}
	if c.Topic == "" {
		c.Topic = Topic
	}
	if c.ConsumerGroup == "" {
		c.ConsumerGroup = DefaultConsumerGroup
	}
	if c.Concurrency == 0 {
		c.Concurrency = 16
	}
	if c.MaxHandlingTime == 0 {
		c.MaxHandlingTime = 15 * time.Minute
	}
	if c.RedeliveryDelay == 0 {
		c.RedeliveryDelay = time.Second
	}
	if c.AckWait == 0 {
		c.AckWait = 30 * time.Second
	}
	if c.StreamMaxAge == 0 {
		c.StreamMaxAge = 7 * 24 * time.Hour
	}
	if c.Exchange == "" {
		c.Exchange = "octavia-es"
	}
	if c.PollInterval == 0 {
		c.PollInterval = 100 * time.Millisecond
	}
}

// Validate reports every invalid field of a config whose defaults are set.
func (c Config) Validate() error {
	var errs []error
	schemes := map[string][]string{
		TransportNATS:     {"nats", "tls"},
		TransportAMQP:     {"amqp", "amqps"},
		TransportPostgres: {"postgres", "postgresql"},
	}
	switch c.Transport {
	case TransportGoChannel:
	case TransportNATS, TransportAMQP, TransportPostgres:
		if err := checkURL(c.URL, schemes[c.Transport]); err != nil {
			errs = append(errs, fmt.Errorf("url: %w", err))
		}
	default:
		errs = append(errs, fmt.Errorf("transport %q: want gochannel, nats, amqp or postgres", c.Transport))
	}
	if !topicRe.MatchString(c.Topic) || len(c.Topic) > 200 {
		errs = append(errs, fmt.Errorf("topic %q: want dot-separated words of letters, digits, - and _", c.Topic))
	} else if c.Transport == TransportPostgres && len(c.Topic) > postgresMaxTopic {
		errs = append(errs, fmt.Errorf("topic %q: longer than %d bytes (postgres table names)", c.Topic, postgresMaxTopic))
	}
	if !groupRe.MatchString(c.ConsumerGroup) || len(c.ConsumerGroup) > 100 {
		errs = append(errs, fmt.Errorf("consumer group %q: want letters, digits, - and _", c.ConsumerGroup))
	}
	if c.Concurrency < 1 || c.Concurrency > 1024 {
		errs = append(errs, fmt.Errorf("concurrency %d: want 1..1024", c.Concurrency))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"max handling time", c.MaxHandlingTime}, {"redelivery delay", c.RedeliveryDelay},
		{"ack wait", c.AckWait}, {"stream max age", c.StreamMaxAge}, {"poll interval", c.PollInterval},
	} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s %s: want > 0", d.name, d.v))
		}
	}
	if c.AckWait > 0 && c.AckWait < time.Second {
		errs = append(errs, fmt.Errorf("ack wait %s: want >= 1s", c.AckWait))
	}
	if !groupRe.MatchString(c.Exchange) && !topicRe.MatchString(c.Exchange) {
		errs = append(errs, fmt.Errorf("exchange %q: want letters, digits, ., - and _", c.Exchange))
	}
	return errors.Join(errs...)
}

// PoisonTopic is where messages a handler kept failing on are published.
func (c Config) PoisonTopic() string { return c.Topic + PoisonSuffix }

func checkURL(raw string, schemes []string) error {
	if raw == "" {
		return errors.New("required for this transport")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q: %w", redact(raw), err)
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return nil
		}
	}
	return fmt.Errorf("%q: scheme %q, want one of %v", redact(raw), u.Scheme, schemes)
}

// redact hides a password in a URL quoted in an error.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if err != nil {
			return "(unparsable URL)"
		}
		return raw
	}
	return u.Redacted()
}
