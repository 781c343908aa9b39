package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/pgtest"
)

func TestScaleConfigFromEnv(t *testing.T) {
	cfg, err := loadConfig("", []string{
		"OCTAVIA_ES_STORE_DRIVER=postgres", "OCTAVIA_ES_STORE_POSTGRES_DSN=postgres://u@h:5432/db",
		"OCTAVIA_ES_STORE_POSTGRES_SCHEMA=es1", "OCTAVIA_ES_BUS_TRANSPORT=nats", "OCTAVIA_ES_BUS_URL=nats://h:4222",
		"OCTAVIA_ES_BUS_TOPIC=t.events", "OCTAVIA_ES_BUS_CONSUMER_GROUP=g", "OCTAVIA_ES_BUS_CONCURRENCY=4",
		"OCTAVIA_ES_BUS_RETRIES=2", "OCTAVIA_ES_BUS_ACK_WAIT=5s", "OCTAVIA_ES_FORWARDER_LEASE=postgres",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := StoreConfig{Driver: "postgres", PostgresDSN: "postgres://u@h:5432/db", PostgresSchema: "es1"}
	if cfg.Store != want {
		t.Errorf("store %+v, want %+v", cfg.Store, want)
	}
	b := cfg.Bus.bus()
	if b.Transport != "nats" || b.URL != "nats://h:4222" || b.Topic != "t.events" || b.ConsumerGroup != "g" || b.Concurrency != 4 || b.AckWait != 5*time.Second {
		t.Errorf("bus %+v", b)
	}
	if r := cfg.Bus.router(); r.Retries != 2 {
		t.Errorf("router retries %d", r.Retries)
	}
	if cfg.leaseKind() != leasePostgres {
		t.Errorf("lease %q", cfg.leaseKind())
	}
}

func TestScaleConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		want []string // substrings of the error; none = valid
	}{
		{"defaults", nil, nil},
		{"unknown driver", []string{"OCTAVIA_ES_STORE_DRIVER=mysql"}, []string{"store.driver"}},
		{"postgres without dsn", []string{"OCTAVIA_ES_STORE_DRIVER=postgres", "OCTAVIA_ES_STORE_POSTGRES_SCHEMA="},
			[]string{"store.postgres_dsn", "store.postgres_schema"}},
		{"nats without url", []string{"OCTAVIA_ES_BUS_TRANSPORT=nats"}, []string{"bus: url"}},
		{"amqp wrong scheme", []string{"OCTAVIA_ES_BUS_TRANSPORT=amqp", "OCTAVIA_ES_BUS_URL=nats://x:1"}, []string{"scheme"}},
		{"unknown transport", []string{"OCTAVIA_ES_BUS_TRANSPORT=kafka"}, []string{"transport \"kafka\""}},
		{"bad group and concurrency", []string{"OCTAVIA_ES_BUS_CONSUMER_GROUP=a b", "OCTAVIA_ES_BUS_CONCURRENCY=0"},
			[]string{"consumer group", "concurrency"}},
		{"no retries", []string{"OCTAVIA_ES_BUS_RETRIES=0"}, []string{"bus.retries"}},
		{"postgres lease on sqlite", []string{"OCTAVIA_ES_FORWARDER_LEASE=postgres"}, []string{"forwarder.lease postgres needs"}},
		{"unknown lease", []string{"OCTAVIA_ES_FORWARDER_LEASE=etcd"}, []string{"forwarder.lease \"etcd\""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadConfig("", tc.env)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want an error mentioning %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestGoChannelRefusedForSplitProcessesOnPostgres(t *testing.T) {
	pg := []string{"OCTAVIA_ES_STORE_DRIVER=postgres", "OCTAVIA_ES_STORE_POSTGRES_DSN=postgres://u@h/db"}
	for _, tc := range []struct {
		proc    string
		env     []string
		refused bool
	}{
		{"serve", pg, false},
		{"api", pg, true},
		{"worker", pg, true},
		{"health-manager", pg, false},
		{"worker", append(pg, "OCTAVIA_ES_BUS_TRANSPORT=nats", "OCTAVIA_ES_BUS_URL=nats://h:4222"), false},
		{"worker", nil, false}, // SQLite: one host, one worker, the bus inside it
	} {
		cfg, err := loadConfig("", tc.env)
		if err != nil {
			t.Fatal(err)
		}
		err = cfg.validateFor(processes[tc.proc])
		if (err != nil) != tc.refused {
			t.Errorf("%s %v: refused=%v, err %v", tc.proc, tc.env, tc.refused, err)
		}
		if err != nil && !strings.Contains(err.Error(), "bus.transport") {
			t.Errorf("error %q does not name bus.transport", err)
		}
	}
}

func TestLeaseKind(t *testing.T) {
	for _, tc := range []struct{ driver, lease, want string }{
		{storeSQLite, leaseAuto, leaseLocal},
		{storePostgres, leaseAuto, leasePostgres},
		{storePostgres, leaseLocal, leaseLocal},
	} {
		c := Config{Store: StoreConfig{Driver: tc.driver}, Forwarder: ForwarderConfig{Lease: tc.lease}}
		if got := c.leaseKind(); got != tc.want {
			t.Errorf("%s/%s: %s, want %s", tc.driver, tc.lease, got, tc.want)
		}
	}
}

// TestUnmigratedPostgresStoreTellsToMigrate needs the machine's PostgreSQL
// (pgtest.Require: skipped without one, except under CI=true).
func TestUnmigratedPostgresStoreTellsToMigrate(t *testing.T) {
	dsn := pgtest.Require(t)
	cfg := defaultConfig()
	cfg.Store = StoreConfig{Driver: storePostgres, PostgresDSN: dsn, PostgresSchema: "never_migrated_" + strings.ReplaceAll(t.Name(), "/", "_")[:4]}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := openStore(ctx, cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		_ = s.Close()
		t.Fatal("an unmigrated schema opened")
	}
	if !strings.Contains(err.Error(), "octavia-es migrate") {
		t.Fatalf("error %q does not tell to run octavia-es migrate", err)
	}
}
