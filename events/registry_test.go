package events

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestEncodeDecodeRoundTripsEveryRegisteredEvent(t *testing.T) {
	reg := NewRegistry()
	name := "web"
	for _, r := range allEvents() {
		env, err := reg.Encode(StreamFor("lb-1"), r.event, Metadata{Actor: Actor{ProjectID: "p1", RequestID: "req-1"}, CorrelationID: "c1"})
		if err != nil {
			t.Fatalf("%s: encode: %v", r.event.EventType(), err)
		}
		if env.Type != r.event.EventType() || env.SchemaVersion != r.schemaVersion || env.ID == "" || env.Time.IsZero() ||
			env.Stream != "loadbalancer-lb-1" || env.Actor.ProjectID != "p1" || env.CorrelationID != "c1" {
			t.Fatalf("%s: envelope %+v", r.event.EventType(), env)
		}
		got, err := reg.Decode(env)
		if err != nil {
			t.Fatalf("%s: decode: %v", r.event.EventType(), err)
		}
		if got.EventType() != r.event.EventType() {
			t.Fatalf("decoded %s as %s", r.event.EventType(), got.EventType())
		}
	}
	// A payload with data survives the trip as a value type.
	env, _ := reg.Encode("s", ListenerCreateRequested{Listener: Listener{ID: "l1", Name: &name, ProtocolPort: 80}}, Metadata{})
	got, err := reg.Decode(env)
	if err != nil {
		t.Fatal(err)
	}
	l, ok := got.(ListenerCreateRequested)
	if !ok || l.Listener.ID != "l1" || *l.Listener.Name != "web" || l.Listener.ProtocolPort != 80 {
		t.Fatalf("decoded %#v", got)
	}
}

func TestEventNamesAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range allEvents() {
		if seen[r.event.EventType()] {
			t.Fatalf("duplicate event name %s", r.event.EventType())
		}
		seen[r.event.EventType()] = true
	}
}

func TestDecodeUnknownTypeAndBadData(t *testing.T) {
	reg := NewRegistry()
	_, err := reg.Decode(Envelope{Type: "no.such", SchemaVersion: 1, Data: json.RawMessage(`{}`)})
	var unknown ErrUnknownEventType
	if !errors.As(err, &unknown) || unknown.Type != "no.such" {
		t.Fatalf("got %v", err)
	}
	_, err = reg.Decode(Envelope{Type: "listener.create_requested", SchemaVersion: 1, Data: json.RawMessage(`{"listener": 5}`)})
	if err == nil || !strings.Contains(err.Error(), "listener.create_requested") {
		t.Fatalf("bad data: got %v", err)
	}
	if _, err := reg.Encode("s", unregistered{}, Metadata{}); err == nil {
		t.Fatal("encoding an unregistered event must fail")
	}
}

type unregistered struct{}

func (unregistered) EventType() string { return "test.unregistered" }

// A v1 payload stored before a schema change is read as the current version.
func TestUpcastersTurnOldVersionsIntoCurrent(t *testing.T) {
	reg := NewRegistry()
	reg.Register(LoadBalancerDeleteRequested{}, 2)
	reg.AddUpcaster(Upcaster{Type: "loadbalancer.delete_requested", From: 1, Up: func(in json.RawMessage) (json.RawMessage, error) {
		// v1 called it "lb_id" and had no cascade.
		var v1 struct {
			LBID string `json:"lb_id"`
		}
		if err := json.Unmarshal(in, &v1); err != nil {
			return nil, err
		}
		return json.Marshal(LoadBalancerDeleteRequested{LoadBalancerID: v1.LBID})
	}})
	got, err := reg.Decode(Envelope{Type: "loadbalancer.delete_requested", SchemaVersion: 1, Data: json.RawMessage(`{"lb_id":"x"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if got.(LoadBalancerDeleteRequested).LoadBalancerID != "x" {
		t.Fatalf("got %#v", got)
	}
	// Without an upcaster for an old version the read fails loudly.
	reg.Register(LoadBalancerActivated{}, 3)
	if _, err := reg.Decode(Envelope{Type: "loadbalancer.activated", SchemaVersion: 1, Data: json.RawMessage(`{}`)}); err == nil {
		t.Fatal("missing upcaster must be an error")
	}
}
