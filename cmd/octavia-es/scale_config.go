package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/octavia-es/octavia-es/adapters/bus"
	"github.com/octavia-es/octavia-es/adapters/eventstore/postgres"
)

// Event store drivers.
const (
	storeSQLite   = "sqlite"
	storePostgres = "postgres"
)

// Forwarder leases.
const (
	leaseAuto     = "auto"     // postgres when the store is PostgreSQL, else local
	leaseLocal    = "local"    // one forwarder per process (a single worker)
	leasePostgres = "postgres" // an advisory lock on the event store's database
)

// StoreConfig selects the event store every process of a deployment shares.
type StoreConfig struct {
	// Driver: sqlite (<data_dir>/events.db, the default) or postgres.
	Driver string `yaml:"driver"`
	// PostgresDSN: postgres://user:pass@host:5432/db?sslmode=disable.
	PostgresDSN string `yaml:"postgres_dsn"`
	// PostgresSchema holds the event store's tables (octavia-es migrate creates them).
	PostgresSchema string `yaml:"postgres_schema"`
}

// Read model drivers.
const (
	readModelAuto     = "auto" // postgres when the store is PostgreSQL, else sqlite
	readModelSQLite   = "sqlite"
	readModelPostgres = "postgres"
)

// ReadModelConfig selects where the read models the API serves live:
// SQLite files, one per process, each projected by its process; or one
// PostgreSQL schema every process reads, projected by one process at a time
// (a lease) and followed by the others' checkpoint listeners.
type ReadModelConfig struct {
	// Driver: auto (postgres with store.driver postgres, else sqlite), sqlite or postgres.
	Driver string `yaml:"driver"`
	// PostgresDSN: "" = store.postgres_dsn.
	PostgresDSN string `yaml:"postgres_dsn"`
	// PostgresSchema: "" = <store.postgres_schema>_read_model. Created and
	// migrated by `octavia-es migrate` and by any process at start-up (it is
	// derived data: a schema change rebuilds it from the events).
	PostgresSchema string `yaml:"postgres_schema"`
}

// readModelKind resolves auto.
func (c Config) readModelKind() string {
	if c.ReadModel.Driver == readModelAuto || c.ReadModel.Driver == "" {
		if c.Store.Driver == storePostgres {
			return readModelPostgres
		}
		return readModelSQLite
	}
	return c.ReadModel.Driver
}

// readModelPostgres is the PostgreSQL read model's location, defaults resolved.
func (c Config) readModelPostgres() (dsn, schema string) {
	dsn, schema = c.ReadModel.PostgresDSN, c.ReadModel.PostgresSchema
	if dsn == "" {
		dsn = c.Store.PostgresDSN
	}
	if schema == "" {
		schema = c.Store.PostgresSchema + "_read_model"
	}
	return dsn, schema
}

func (c Config) validateReadModel() []error {
	switch c.ReadModel.Driver {
	case readModelAuto, "", readModelSQLite:
		return nil
	case readModelPostgres:
		if dsn, _ := c.readModelPostgres(); dsn == "" {
			return []error{errors.New("read_model.postgres_dsn (or store.postgres_dsn) must be set when read_model.driver is postgres")}
		}
		return nil
	}
	return []error{fmt.Errorf("read_model.driver %q: want auto, sqlite or postgres", c.ReadModel.Driver)}
}

// BusConfig is adapters/bus.Config and RouterConfig as the operator sets them.
type BusConfig struct {
	// Transport: gochannel (in-process, the default), nats, amqp or postgres.
	Transport     string `yaml:"transport"`
	URL           string `yaml:"url"`
	Topic         string `yaml:"topic"`
	ConsumerGroup string `yaml:"consumer_group"`
	Concurrency   int    `yaml:"concurrency"`
	// Retries of a failed saga message before it goes to <topic>.poison.
	Retries              int           `yaml:"retries"`
	RetryInitialInterval time.Duration `yaml:"retry_initial_interval"`
	RetryMaxInterval     time.Duration `yaml:"retry_max_interval"`
	MaxHandlingTime      time.Duration `yaml:"max_handling_time"`
	RedeliveryDelay      time.Duration `yaml:"redelivery_delay"`
	AckWait              time.Duration `yaml:"ack_wait"`
	StreamMaxAge         time.Duration `yaml:"stream_max_age"`
	Exchange             string        `yaml:"exchange"`
	PollInterval         time.Duration `yaml:"poll_interval"`
}

// ForwarderConfig: which lease elects the one process forwarding events to the bus.
type ForwarderConfig struct {
	Lease string `yaml:"lease"`
}

func defaultStoreConfig() StoreConfig {
	return StoreConfig{Driver: storeSQLite, PostgresSchema: postgres.DefaultSchema}
}

func defaultBusConfig() BusConfig {
	return BusConfig{
		Transport: bus.TransportGoChannel, Topic: bus.Topic, ConsumerGroup: bus.DefaultConsumerGroup,
		Concurrency: 16, Retries: 5, RetryInitialInterval: 100 * time.Millisecond, RetryMaxInterval: 5 * time.Second,
		MaxHandlingTime: 15 * time.Minute, RedeliveryDelay: time.Second, AckWait: 30 * time.Second,
		StreamMaxAge: 7 * 24 * time.Hour, Exchange: "octavia-es", PollInterval: 100 * time.Millisecond,
	}
}

func (s StoreConfig) validate() []error {
	switch s.Driver {
	case storeSQLite:
		return nil
	case storePostgres:
		var errs []error
		if s.PostgresDSN == "" {
			errs = append(errs, errors.New("store.postgres_dsn must be set when store.driver is postgres"))
		}
		if s.PostgresSchema == "" {
			errs = append(errs, errors.New("store.postgres_schema must be set when store.driver is postgres"))
		}
		return errs
	}
	return []error{fmt.Errorf("store.driver %q: want sqlite or postgres", s.Driver)}
}

func (b BusConfig) bus() bus.Config {
	return bus.Config{
		Transport: b.Transport, URL: b.URL, Topic: b.Topic, ConsumerGroup: b.ConsumerGroup,
		Concurrency: b.Concurrency, MaxHandlingTime: b.MaxHandlingTime, RedeliveryDelay: b.RedeliveryDelay,
		AckWait: b.AckWait, StreamMaxAge: b.StreamMaxAge, Exchange: b.Exchange, PollInterval: b.PollInterval,
	}
}

func (b BusConfig) router() bus.RouterConfig {
	return bus.RouterConfig{Retries: b.Retries, RetryInitialInterval: b.RetryInitialInterval, RetryMaxInterval: b.RetryMaxInterval}
}

func (b BusConfig) validate() []error {
	var errs []error
	if err := b.bus().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("bus: %w", err))
	}
	if b.Retries < 1 {
		errs = append(errs, errors.New("bus.retries must be at least 1"))
	}
	if err := b.router().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("bus: %w", err))
	}
	return errs
}

func (c Config) validateScale() []error {
	errs := append(c.Store.validate(), c.Bus.validate()...)
	errs = append(errs, c.validateReadModel()...)
	switch c.Forwarder.Lease {
	case leaseAuto, leaseLocal:
	case leasePostgres:
		if c.Store.Driver != storePostgres {
			errs = append(errs, errors.New("forwarder.lease postgres needs store.driver postgres (the lock lives in its database)"))
		}
	default:
		errs = append(errs, fmt.Errorf("forwarder.lease %q: want auto, local or postgres", c.Forwarder.Lease))
	}
	return errs
}

// leaseKind resolves auto.
func (c Config) leaseKind() string {
	if c.Forwarder.Lease == leaseAuto || c.Forwarder.Lease == "" {
		if c.Store.Driver == storePostgres {
			return leasePostgres
		}
		return leaseLocal
	}
	return c.Forwarder.Lease
}

// validateFor checks what depends on the process. The in-process bus
// cannot carry events between processes; with the shared PostgreSQL store
// several workers (each forwarding into its own GoChannel) would each run
// every saga. The SQLite store is one host's: there api + one worker keep
// the in-process bus inside the worker (forwarder and router together).
func (c Config) validateFor(proc process) error {
	if proc.name == "serve" || !proc.has(roleAPI|roleWorker) {
		return nil
	}
	if c.Bus.Transport == bus.TransportGoChannel && c.Store.Driver == storePostgres {
		return fmt.Errorf("bus.transport gochannel is in-process: `octavia-es %s` on the PostgreSQL store runs beside other processes; "+
			"set bus.transport to nats, amqp or postgres (or run `octavia-es serve`)", proc.name)
	}
	return nil
}
