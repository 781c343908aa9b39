package bus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/bus"
	"github.com/octavia-es/octavia-es/events"
)

// BenchmarkTransport publishes b.N events one at a time, as the forwarder
// does, to a router of one consumer group (default Concurrency 16, a
// handler that does nothing), and reports the publish rate and the rate
// at which the events were handled end to end:
//
//	go test ./adapters/bus -run '^$' -bench Transport -benchtime 2000x
func BenchmarkTransport(b *testing.B) {
	for _, tc := range []struct{ transport, url string }{
		{bus.TransportGoChannel, ""},
		{bus.TransportNATS, natsURL},
		{bus.TransportAMQP, amqpURL},
		{bus.TransportPostgres, postgresURL},
	} {
		b.Run(tc.transport, func(b *testing.B) {
			name := throwaway()
			cfg := bus.Config{Transport: tc.transport, URL: tc.url, Topic: "octavia-es." + name, Exchange: name}
			switch tc.transport {
			case bus.TransportNATS:
				needServer(b, tc.url)
				b.Cleanup(func() { deleteStreams(b, cfg.Topic, cfg.Topic+bus.PoisonSuffix) })
			case bus.TransportAMQP:
				needServer(b, tc.url)
				b.Cleanup(func() { deleteQueues(b, cfg.Exchange, cfg.Topic) })
			case bus.TransportPostgres:
				needServer(b, tc.url)
				cfg.Topic = name
				b.Cleanup(func() { dropTables(b, cfg.Topic) })
			}
			bb, err := bus.Open(context.Background(), cfg, quietLog())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = bb.Close() })
			n := int64(b.N)
			var handled atomic.Int64
			all := make(chan struct{})
			runBenchRouter(b, bb, func() {
				if handled.Add(1) == n {
					close(all)
				}
			})
			msgs := make([]*events.Envelope, b.N)
			for i := range msgs {
				msgs[i] = &events.Envelope{ID: fmt.Sprintf("%s-%d", name, i), Stream: "loadbalancer-x", Position: int64(i + 1),
					Type: "loadbalancer.create_requested", SchemaVersion: 1, Data: json.RawMessage(`{"name":"lb"}`)}
			}
			b.ResetTimer()
			start := time.Now()
			for _, env := range msgs {
				msg, err := bus.NewMessage(*env)
				if err != nil {
					b.Fatal(err)
				}
				if err := bb.Publisher().Publish(bb.Topic(), msg); err != nil {
					b.Fatal(err)
				}
			}
			published := time.Since(start)
			select {
			case <-all:
			case <-time.After(time.Minute):
				b.Fatalf("handled %d of %d", handled.Load(), b.N)
			}
			total := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/published.Seconds(), "published/s")
			b.ReportMetric(float64(b.N)/total.Seconds(), "handled/s")
		})
	}
}

func runBenchRouter(b *testing.B, bb *bus.Bus, handled func()) {
	b.Helper()
	sub, err := bb.Subscriber("")
	if err != nil {
		b.Fatal(err)
	}
	r, err := bus.NewRouter(bus.RouterConfig{Poison: bb.Publisher()}, quietLog())
	if err != nil {
		b.Fatal(err)
	}
	r.AddConsumerHandler("bench", bb.Topic(), sub, bus.EnvelopeHandler(func(context.Context, events.Envelope) error {
		handled()
		return nil
	}, quietLog()))
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	b.Cleanup(func() { stop(); _ = r.Close(); <-done; _ = sub.Close() })
	<-r.Running()
}
