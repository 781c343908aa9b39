// Package metrics holds octavia-es's Prometheus metrics: one Metrics value
// per process with its own registry (no global default registry), the
// collectors every component feeds, and the /metrics handler.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "octavia_es"

// Metrics is one process's metrics. Its methods are safe for concurrent use.
type Metrics struct {
	reg             *prometheus.Registry
	httpDuration    *prometheus.HistogramVec
	eventsAppended  *prometheus.CounterVec
	sagaDuration    *prometheus.HistogramVec
	sagaFailures    *prometheus.CounterVec
	busRedeliveries *prometheus.CounterVec
}

// New returns the metrics of a process named process (api, worker, ...:
// the constant label "process"), with the Go runtime and process collectors.
func New(process string) *Metrics {
	reg := prometheus.NewRegistry()
	labels := prometheus.Labels{"process": process}
	m := &Metrics{
		reg: reg,
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "api", Name: "request_duration_seconds",
			Help:        "Latency of Octavia API requests by method, route pattern and status code.",
			ConstLabels: labels, Buckets: prometheus.DefBuckets,
		}, []string{"method", "route", "code"}),
		eventsAppended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "eventstore", Name: "events_appended_total",
			Help: "Events appended to the event store by this process, by event type.", ConstLabels: labels,
		}, []string{"type"}),
		sagaDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "saga", Name: "step_duration_seconds",
			Help:        "Duration of saga steps (driver calls and their outcome events) by operation, step and outcome.",
			ConstLabels: labels, Buckets: []float64{.005, .025, .1, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"operation", "step", "outcome"}),
		sagaFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "saga", Name: "step_failures_total",
			Help: "Saga steps that failed after their retries (and were compensated), by operation and step.", ConstLabels: labels,
		}, []string{"operation", "step"}),
		busRedeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "bus", Name: "redeliveries_total",
			Help: "Bus messages handled again after a failed delivery, by handler.", ConstLabels: labels,
		}, []string{"handler"}),
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpDuration, m.eventsAppended, m.sagaDuration, m.sagaFailures, m.busRedeliveries)
	return m
}

// Registry is the process's registry, for collectors of its own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveHTTP records one API request; route is the router's pattern
// (never the raw path: ids would explode the label set).
func (m *Metrics) ObserveHTTP(method, route string, code int, d time.Duration) {
	m.httpDuration.WithLabelValues(method, route, statusText(code)).Observe(d.Seconds())
}

// StepDone records one saga step of operation; failed: it failed after its
// retries and was compensated.
func (m *Metrics) StepDone(operation, step string, d time.Duration, failed bool) {
	outcome := "ok"
	if failed {
		outcome = "failed"
		m.sagaFailures.WithLabelValues(operation, step).Inc()
	}
	m.sagaDuration.WithLabelValues(operation, step, outcome).Observe(d.Seconds())
}

func statusText(code int) string {
	if code < 100 || code > 999 {
		return "unknown"
	}
	return strconv.Itoa(code)
}
