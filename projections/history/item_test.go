package history_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/projections/history"
)

// TestItemUpcasts: an item shows its payload at the current schema,
// whatever it was stored with, and says both versions.
func TestItemUpcasts(t *testing.T) {
	reg := events.NewRegistry()
	reg.Register(events.LoadBalancerDeleted{}, 2)
	reg.AddUpcaster(events.Upcaster{Type: "loadbalancer.deleted", From: 1, Up: func(raw json.RawMessage) (json.RawMessage, error) {
		var v1 struct {
			LB string `json:"lb"`
		}
		if err := json.Unmarshal(raw, &v1); err != nil {
			return nil, err
		}
		return json.Marshal(events.LoadBalancerDeleted{LoadBalancerID: v1.LB})
	}})
	env := events.Envelope{
		ID: "e-1", Stream: events.StreamFor("lb-1"), Version: 9, Position: 40, Type: "loadbalancer.deleted", SchemaVersion: 1,
		Time: time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.FixedZone("x", 3600)), Data: json.RawMessage(`{"lb": "lb-1"}`),
	}
	it, err := history.NewItem(reg, env, "p1")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(it)
	want := `{"id":"e-1","position":40,"stream":"loadbalancer-lb-1","loadbalancer_id":"lb-1","project_id":"p1","version":9,` +
		`"type":"loadbalancer.deleted","time":"2026-01-02T02:04:05.123456Z",` +
		`"actor":{"project_id":null,"user_id":null,"request_id":null},"correlation_id":null,"causation_id":null,` +
		`"schema_version":2,"stored_schema_version":1,"data":{"loadbalancer_id":"lb-1"}}`
	if string(got) != want {
		t.Fatalf("item\n got %s\nwant %s", got, want)
	}
	env.Data = json.RawMessage(`{"lb": 3}`)
	if _, err := history.NewItem(reg, env, "p1"); err == nil || !strings.Contains(err.Error(), "upcast") {
		t.Fatalf("an upcaster failure: %v", err)
	}
}
