package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// scrapeTimeout bounds what a scrape waits for a store.
const scrapeTimeout = 5 * time.Second

// Positions are the two ends projection lag is measured between.
type Positions interface {
	Head(ctx context.Context) (int64, error)
}

// Checkpointer is a read model's position in the store.
type Checkpointer interface {
	Checkpoint(ctx context.Context) (int64, error)
}

// WatchProjectionLag samples octavia_es_projection_lag_events (store head
// minus the read model's checkpoint) on every scrape. A failed read leaves
// the sample out rather than reporting a wrong lag.
func (m *Metrics) WatchProjectionLag(store Positions, rm Checkpointer) {
	m.reg.MustRegister(&lagCollector{
		desc: prometheus.NewDesc(namespace+"_projection_lag_events",
			"Events the read model has not applied yet (event store head - read model checkpoint).", nil, nil),
		store: store, rm: rm,
	})
}

type lagCollector struct {
	desc  *prometheus.Desc
	store Positions
	rm    Checkpointer
}

func (c *lagCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *lagCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	cp, err := c.rm.Checkpoint(ctx) // checkpoint first: a head read after it never shows a negative lag
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	head, err := c.store.Head(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(max(head-cp, 0)))
}

// AmphoraCounter counts the read model's amphorae by status.
type AmphoraCounter func(ctx context.Context) (map[string]int, error)

// WatchAmphorae samples octavia_es_amphorae{status} from count on every scrape.
func (m *Metrics) WatchAmphorae(count AmphoraCounter) {
	m.reg.MustRegister(&amphoraCollector{
		desc: prometheus.NewDesc(namespace+"_amphorae",
			"Amphorae in the read model by status.", []string{"status"}, nil),
		count: count,
	})
}

type amphoraCollector struct {
	desc  *prometheus.Desc
	count AmphoraCounter
}

func (c *amphoraCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *amphoraCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	byStatus, err := c.count(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for status, n := range byStatus {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), status)
	}
}
