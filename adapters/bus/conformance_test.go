package bus_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	natsgo "github.com/nats-io/nats.go"
	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/octavia-es/octavia-es/adapters/bus"
	busamqp "github.com/octavia-es/octavia-es/adapters/bus/amqp"
	"github.com/octavia-es/octavia-es/adapters/bus/bustest"
	busnats "github.com/octavia-es/octavia-es/adapters/bus/nats"
	buspg "github.com/octavia-es/octavia-es/adapters/bus/postgres"
	"github.com/octavia-es/octavia-es/adapters/pgtest"
)

// Servers of the machine (override with the environment).
var (
	natsURL     = envOr("OCTAVIA_ES_TEST_NATS", "nats://127.0.0.1:4222")
	amqpURL     = envOr("OCTAVIA_ES_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672/")
	postgresURL = pgtest.DSN()
)

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// needServer skips the test when the server at rawURL does not answer,
// unless CI=true (then the server must be there).
func needServer(t testing.TB, rawURL string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", u.Host, time.Second)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("server %s unreachable (CI=true: it must run): %v", u.Host, err)
		}
		t.Skipf("server %s unreachable: %v", u.Host, err)
	}
	_ = c.Close()
}

// throwaway is a fresh name for one test.
func throwaway() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return "oes-test-" + hex.EncodeToString(b)
}

func openBus(t *testing.T, cfg bus.Config) *bus.Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := bus.Open(ctx, cfg, quietLog())
	if err != nil {
		t.Fatalf("open %s: %v", cfg.Transport, err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return b
}

func allGroups() []string {
	return append([]string{bus.DefaultConsumerGroup, bus.PoisonGroup}, bustest.Groups...)
}

func TestConformanceGoChannel(t *testing.T) {
	t.Parallel()
	bustest.Run(t, func(t *testing.T, cfg bus.Config) *bus.Bus {
		cfg.Transport, cfg.Topic = bus.TransportGoChannel, "octavia-es."+throwaway()
		return openBus(t, cfg)
	}, bustest.Caps{Durable: false})
}

func TestConformanceNATS(t *testing.T) {
	t.Parallel()
	needServer(t, natsURL)
	bustest.Run(t, func(t *testing.T, cfg bus.Config) *bus.Bus {
		cfg.Transport, cfg.URL, cfg.Topic = bus.TransportNATS, natsURL, "octavia-es."+throwaway()
		t.Cleanup(func() { deleteStreams(t, cfg.Topic, cfg.Topic+bus.PoisonSuffix) })
		return openBus(t, cfg)
	}, bustest.Caps{Durable: true})
}

func TestConformanceAMQP(t *testing.T) {
	t.Parallel()
	needServer(t, amqpURL)
	bustest.Run(t, func(t *testing.T, cfg bus.Config) *bus.Bus {
		name := throwaway()
		cfg.Transport, cfg.URL, cfg.Topic, cfg.Exchange = bus.TransportAMQP, amqpURL, "octavia-es."+name, name
		t.Cleanup(func() { deleteQueues(t, cfg.Exchange, cfg.Topic) })
		return openBus(t, cfg)
	}, bustest.Caps{Durable: true})
}

func TestConformancePostgres(t *testing.T) {
	t.Parallel()
	needServer(t, postgresURL)
	bustest.Run(t, func(t *testing.T, cfg bus.Config) *bus.Bus {
		cfg.Transport, cfg.URL, cfg.Topic = bus.TransportPostgres, postgresURL, throwaway()
		t.Cleanup(func() { dropTables(t, cfg.Topic) })
		return openBus(t, cfg)
	}, bustest.Caps{Durable: true})
}

func deleteStreams(t testing.TB, topics ...string) {
	nc, err := natsgo.Connect(natsURL)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	for _, topic := range topics {
		if err := js.DeleteStream(busnats.StreamName(topic)); err != nil && err != natsgo.ErrStreamNotFound {
			t.Errorf("cleanup: delete stream of %s: %v", topic, err)
		}
	}
}

func deleteQueues(t testing.TB, exchange, topic string) {
	conn, err := amqp091.Dial(amqpURL)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	defer conn.Close()
	for _, tp := range []string{topic, topic + bus.PoisonSuffix} {
		for _, g := range allGroups() {
			ch, err := conn.Channel()
			if err != nil {
				t.Errorf("cleanup: %v", err)
				return
			}
			_, _ = ch.QueueDelete(busamqp.QueueName(tp, g), false, false, false)
			_ = ch.Close()
		}
	}
	if ch, err := conn.Channel(); err == nil {
		if err := ch.ExchangeDelete(exchange, false, false); err != nil {
			t.Errorf("cleanup: delete exchange %s: %v", exchange, err)
		}
		_ = ch.Close()
	}
}

func dropTables(t testing.TB, topic string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, postgresURL)
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	defer conn.Close(ctx)
	for _, tp := range []string{topic, topic + bus.PoisonSuffix} {
		for _, table := range buspg.QueueTables(tp) {
			if _, err := conn.Exec(ctx, `DROP TABLE IF EXISTS `+table); err != nil {
				t.Errorf("cleanup: drop %s: %v", table, err)
			}
		}
	}
}
