package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/octavia-es/octavia-es/adapters/eventstore"
	"github.com/octavia-es/octavia-es/adapters/metrics"
	"github.com/octavia-es/octavia-es/events"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, b)
	}
	return string(b)
}

func contains(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("no %q in the scrape", w)
		}
	}
}

type fakeStore struct {
	eventstore.Store
	head int64
	err  error
}

func (s *fakeStore) Append(_ context.Context, _ string, _ int64, evs []events.Envelope) ([]events.Envelope, error) {
	if s.err != nil {
		return nil, s.err
	}
	return evs, nil
}
func (s *fakeStore) Head(context.Context) (int64, error) { return s.head, s.err }

type fakeRM struct{ cp int64 }

func (r fakeRM) Checkpoint(context.Context) (int64, error) { return r.cp, nil }

func TestCountAppends(t *testing.T) {
	m := metrics.New("worker")
	inner := &fakeStore{}
	s := m.CountAppends(inner)
	evs := []events.Envelope{{Type: "LoadBalancerCreated"}, {Type: "ListenerCreated"}, {Type: "LoadBalancerCreated"}}
	if _, err := s.Append(context.Background(), "lb-1", 0, evs); err != nil {
		t.Fatal(err)
	}
	inner.err = errors.New("conflict")
	if _, err := s.Append(context.Background(), "lb-1", 0, evs); err == nil {
		t.Fatal("the store's error was lost")
	}
	body := scrape(t, m)
	contains(t, body,
		`octavia_es_eventstore_events_appended_total{process="worker",type="LoadBalancerCreated"} 2`,
		`octavia_es_eventstore_events_appended_total{process="worker",type="ListenerCreated"} 1`)
}

func TestProjectionLagAndAmphorae(t *testing.T) {
	m := metrics.New("api")
	store := &fakeStore{head: 42}
	m.WatchProjectionLag(store, fakeRM{cp: 40})
	counts := map[string]int{"ALLOCATED": 3, "BOOTING": 1}
	m.WatchAmphorae(func(context.Context) (map[string]int, error) { return counts, nil })
	contains(t, scrape(t, m), "octavia_es_projection_lag_events 2", `octavia_es_amphorae{status="ALLOCATED"} 3`, `octavia_es_amphorae{status="BOOTING"} 1`)
	store.head, counts = 50, map[string]int{"ALLOCATED": 4} // sampled on every scrape
	body := scrape(t, m)
	contains(t, body, "octavia_es_projection_lag_events 10", `octavia_es_amphorae{status="ALLOCATED"} 4`)
	if strings.Contains(body, `status="BOOTING"`) {
		t.Error("a status no amphora has any more is still reported")
	}
}

func TestSagaSteps(t *testing.T) {
	m := metrics.New("worker")
	m.StepDone("create", "boot_amphora", 2*time.Second, false)
	m.StepDone("create", "boot_amphora", time.Second, true)
	contains(t, scrape(t, m),
		`octavia_es_saga_step_duration_seconds_count{operation="create",outcome="ok",process="worker",step="boot_amphora"} 1`,
		`octavia_es_saga_step_duration_seconds_count{operation="create",outcome="failed",process="worker",step="boot_amphora"} 1`,
		`octavia_es_saga_step_failures_total{operation="create",process="worker",step="boot_amphora"} 1`)
}

func TestCountRedeliveries(t *testing.T) {
	m := metrics.New("worker")
	calls := 0
	h := m.CountRedeliveries()(func(msg *message.Message) ([]*message.Message, error) {
		calls++
		if msg.UUID == "a" && calls < 3 {
			return nil, errors.New("driver down")
		}
		return nil, nil
	})
	for _, id := range []string{"a", "a", "a", "b", "a"} {
		_, _ = h(message.NewMessage(id, nil))
	}
	// a failed twice: its 2nd and 3rd deliveries are redeliveries; b and
	// a's delivery after its success are not.
	contains(t, scrape(t, m), `octavia_es_bus_redeliveries_total{handler="",process="worker"} 2`)
}
