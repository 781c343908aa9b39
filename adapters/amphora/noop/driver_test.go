package noop

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/amphora"
	"github.com/octavia-es/octavia-es/adapters/amphora/amphoratest"
	"github.com/octavia-es/octavia-es/adapters/noopkit"
	"github.com/octavia-es/octavia-es/events"
)

func TestConformance(t *testing.T) {
	amphoratest.Run(t, func(t *testing.T) (amphora.Driver, events.Amphora) {
		d, err := New(Config{})
		if err != nil {
			t.Fatal(err)
		}
		return d, events.Amphora{ID: "amp-1", ComputeID: "c-1"}
	})
}

func TestKeepsNewestConfig(t *testing.T) {
	d, _ := New(Config{})
	ctx := context.Background()
	amp := events.Amphora{ID: "amp-1"}
	for _, v := range []int64{3, 7, 5} {
		if err := d.UpdateConfig(ctx, amp, amphoratest.Graph(v, 80)); err != nil {
			t.Fatal(err)
		}
	}
	got, ok := d.Running("amp-1")
	if !ok || got.Version != 7 || len(got.Listeners) != 1 {
		t.Fatalf("running = %+v (%v), want version 7 with one listener", got, ok)
	}
	if err := d.PlugVIP(ctx, amp, amphoratest.VIP); err != nil {
		t.Fatal(err)
	}
	if v, ok := d.Plugged("amp-1"); !ok || v != amphoratest.VIP {
		t.Fatalf("plugged = %+v (%v)", v, ok)
	}
}

func TestFailOnConfig(t *testing.T) {
	d, err := New(Config{Faults: noopkit.Config{FailOn: []string{OpPlugVIP}}})
	if err != nil {
		t.Fatal(err)
	}
	amp := events.Amphora{ID: "amp-1"}
	if err := d.PlugVIP(context.Background(), amp, amphoratest.VIP); !errors.Is(err, noopkit.ErrInjected) {
		t.Fatalf("err = %v, want ErrInjected", err)
	}
	if _, ok := d.Plugged("amp-1"); ok {
		t.Fatal("a failed PlugVIP was remembered")
	}
	if d.Count(OpPlugVIP) != 1 || d.Count(OpUpdateConfig) != 0 {
		t.Fatalf("calls = %+v", d.Calls())
	}
}

func TestUpdateAgentConfig(t *testing.T) {
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	amp := events.Amphora{ID: "amp-1"}
	if _, ok := d.AgentConfig("amp-1"); ok {
		t.Fatal("an agent configuration before any push")
	}
	want := amphora.AgentConfig{HeartbeatTargets: []string{"127.0.0.1:5555"}, HeartbeatInterval: time.Second, HeartbeatKey: "k"}
	if err := d.UpdateAgentConfig(ctx, amp, want); err != nil {
		t.Fatal(err)
	}
	if got, ok := d.AgentConfig("amp-1"); !ok || !reflect.DeepEqual(got, want) {
		t.Fatalf("agent config = %+v (%v), want %+v", got, ok, want)
	}
	d.FailNext(OpUpdateAgentConfig, 1, nil)
	other := amphora.AgentConfig{HeartbeatInterval: 2 * time.Second}
	if err := d.UpdateAgentConfig(ctx, amp, other); !errors.Is(err, noopkit.ErrInjected) {
		t.Fatalf("err = %v, want ErrInjected", err)
	}
	if got, _ := d.AgentConfig("amp-1"); !reflect.DeepEqual(got, want) {
		t.Fatalf("a failed push changed the configuration to %+v", got)
	}
	if d.Count(OpUpdateAgentConfig) != 2 {
		t.Fatalf("calls = %+v", d.Calls())
	}
}
