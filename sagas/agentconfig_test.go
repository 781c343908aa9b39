package sagas

import (
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/amphora"
	amphoranoop "github.com/octavia-es/octavia-es/adapters/amphora/noop"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
)

var testAgentConfig = amphora.AgentConfig{
	HeartbeatTargets: []string{"127.0.0.1:5555"}, HeartbeatInterval: time.Second, HeartbeatKey: "k",
}

// withAgentConfig gives the rig a provisioner that pushes testAgentConfig
// through amp.
func (r *rig) withAgentConfig(amp amphora.Driver) {
	r.t.Helper()
	cfg := fastConfig
	cfg.AgentConfig = testAgentConfig
	p, err := NewProvisioner(r.exec, Drivers{Network: r.net, Compute: r.comp, Amphora: amp, ComputeName: "noop", AmphoraName: "limited"},
		cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		r.t.Fatal(err)
	}
	r.p = p
}

func TestNextAgentConfig(t *testing.T) {
	idle := st("", 5, true, map[string]string{"a1": "STANDALONE", "b2": "STANDALONE"})
	idle.AgentConfigPending = []string{"a1", "b2"}
	busy := idle.Clone()
	busy.Operation = OpUpdate
	if got := Next(idle); got.Kind != UpdateAgentConfig || !slices.Equal(got.Amphorae, []string{"a1", "b2"}) {
		t.Fatalf("idle with requests: Next = %+v", got)
	}
	if got := Next(busy); got.Kind != ApplyConfiguration {
		t.Fatalf("an operation runs first: Next = %+v", got)
	}
}

func TestAgentConfigUpdate(t *testing.T) {
	r := newRig(t)
	r.withAgentConfig(r.amp)
	r.active()
	amp := only(r)
	req := r.do(loadbalancer.UpdateAmphoraAgentConfig{AmphoraID: amp.ID})
	r.deliver(req)
	if got := r.since(req); !slices.Equal(got, []string{"amphora.agent_config_updated"}) {
		t.Fatalf("events = %v", got)
	}
	if got, ok := r.amp.AgentConfig(amp.ID); !ok || !reflect.DeepEqual(got, testAgentConfig) {
		t.Fatalf("pushed %+v (%v), want %+v", got, ok, testAgentConfig)
	}
	s := r.state()
	if s.LoadBalancer.ProvisioningStatus != loadbalancer.Active || len(s.AgentConfigPending) != 0 || s.Operation != "" {
		t.Fatalf("after: %s, pending %v, operation %q", s.LoadBalancer.ProvisioningStatus, s.AgentConfigPending, s.Operation)
	}
	for range 2 {
		r.deliver(req)
	}
	r.wantCounts(map[string]int{amphoranoop.OpUpdateAgentConfig: 1, amphoranoop.OpUpdateConfig: 1})
	for _, env := range r.exec.stream(lbID)[req.Version:] {
		if env.CausationID != req.ID || env.CorrelationID != req.CorrelationID {
			t.Fatalf("%s not caused by the request", env.Type)
		}
	}
}

func TestAgentConfigUpdateFailure(t *testing.T) {
	r := newRig(t)
	r.withAgentConfig(r.amp)
	r.active()
	amp := only(r)
	r.amp.FailOn(amphoranoop.OpUpdateAgentConfig, nil)
	req := r.do(loadbalancer.UpdateAmphoraAgentConfig{AmphoraID: amp.ID})
	r.deliver(req)
	if got := r.since(req); !slices.Equal(got, []string{"amphora.agent_config_update_failed"}) {
		t.Fatalf("events = %v", got)
	}
	last := r.exec.stream(lbID)[req.Version]
	if !strings.Contains(string(last.Data), "amphora.update_agent_config") || !strings.Contains(string(last.Data), "injected") {
		t.Fatalf("failure reason = %s", last.Data)
	}
	s := r.state()
	if s.LoadBalancer.ProvisioningStatus != loadbalancer.Active || len(s.AgentConfigPending) != 0 {
		t.Fatalf("after a failed push: %s, pending %v", s.LoadBalancer.ProvisioningStatus, s.AgentConfigPending)
	}
	r.wantCounts(map[string]int{amphoranoop.OpUpdateAgentConfig: fastConfig.StepAttempts})

	// A driver without the capability: recorded as a failure, once.
	type plain struct{ amphora.Driver }
	r.withAgentConfig(plain{r.amp})
	req = r.do(loadbalancer.UpdateAmphoraAgentConfig{AmphoraID: amp.ID})
	r.deliver(req)
	last = r.exec.stream(lbID)[len(r.exec.stream(lbID))-1]
	if last.Type != "amphora.agent_config_update_failed" || !strings.Contains(string(last.Data), "amphora driver limited cannot update") {
		t.Fatalf("last event %s %s", last.Type, last.Data)
	}
}

// A request during a tenant change waits for it: the change settles first,
// then the push runs in the same pass.
func TestAgentConfigUpdateWaitsForTheOperation(t *testing.T) {
	r := newRig(t)
	r.withAgentConfig(r.amp)
	r.active()
	amp := only(r)
	change := r.do(loadbalancer.CreateListener{Spec: listenerSpec("6a1b2c3d-0000-4000-8000-0000000000l1", 80)})
	r.do(loadbalancer.UpdateAmphoraAgentConfig{AmphoraID: amp.ID})
	r.deliver(change)
	want := []string{"amphora.agent_config_update_requested", "loadbalancer.configuration_applied", "amphora.agent_config_updated"}
	if got := r.since(change); !slices.Equal(got, want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
}
