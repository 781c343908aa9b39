package loadbalancer

import (
	"reflect"
	"testing"

	"github.com/octavia-es/octavia-es/events"
)

func TestDecideAmphoraAgentConfig(t *testing.T) {
	requested := events.AmphoraAgentConfigUpdateRequested{LoadBalancerID: lbID, AmphoraID: "amp-1"}
	pending := seq(activeLB(), []events.Event{requested})
	runDecide(t, []decideCase{
		{name: "request on an ACTIVE load balancer", given: activeLB(), when: UpdateAmphoraAgentConfig{AmphoraID: "amp-1"},
			then: []events.Event{requested}},
		{name: "request while PENDING_UPDATE: nothing is locked", given: lockedLB(), when: UpdateAmphoraAgentConfig{AmphoraID: "amp-1"},
			then: []events.Event{requested}},
		{name: "request while pending: recorded again", given: pending, when: UpdateAmphoraAgentConfig{AmphoraID: "amp-1"},
			then: []events.Event{requested}},
		{name: "unknown amphora", given: activeLB(), when: UpdateAmphoraAgentConfig{AmphoraID: "amp-9"},
			wantErr: &Error{NotFound, "Amphora amp-9 not found."}},
		{name: "no amphora id", given: activeLB(), when: UpdateAmphoraAgentConfig{},
			wantErr: &Error{NotFound, "Amphora  not found."}},
		{name: "deleted amphora", given: seq(activeLB(), []events.Event{events.AmphoraDeleted{LoadBalancerID: lbID, AmphoraID: "amp-1"}}),
			when: UpdateAmphoraAgentConfig{AmphoraID: "amp-1"}, wantErr: &Error{NotFound, "Amphora amp-1 not found."}},
		{name: "no load balancer", when: UpdateAmphoraAgentConfig{AmphoraID: "amp-1"},
			wantErr: &Error{NotFound, "Amphora amp-1 not found."}},
		{name: "updated settles the request", given: pending, when: RecordAmphoraAgentConfigUpdated{AmphoraID: "amp-1"},
			then: []events.Event{events.AmphoraAgentConfigUpdated{LoadBalancerID: lbID, AmphoraID: "amp-1"}}},
		{name: "failed settles the request", given: pending, when: RecordAmphoraAgentConfigFailed{AmphoraID: "amp-1", Reason: "boom"},
			then: []events.Event{events.AmphoraAgentConfigUpdateFailed{LoadBalancerID: lbID, AmphoraID: "amp-1", Reason: "boom"}}},
		{name: "updated without a request records nothing", given: activeLB(), when: RecordAmphoraAgentConfigUpdated{AmphoraID: "amp-1"}},
		{name: "failed twice records once", given: seq(pending, []events.Event{events.AmphoraAgentConfigUpdateFailed{LoadBalancerID: lbID, AmphoraID: "amp-1"}}),
			when: RecordAmphoraAgentConfigFailed{AmphoraID: "amp-1", Reason: "again"}},
		{name: "outcome on no load balancer", when: RecordAmphoraAgentConfigUpdated{AmphoraID: "amp-1"},
			wantErr: &Error{NotFound, "Load Balancer lb-1 not found."}},
	})
}

func TestEvolveAgentConfigPending(t *testing.T) {
	req := func(id string) events.Event {
		return events.AmphoraAgentConfigUpdateRequested{LoadBalancerID: lbID, AmphoraID: id}
	}
	second := events.AmphoraBooted{LoadBalancerID: lbID, Amphora: events.Amphora{ID: "amp-0", LoadBalancerID: lbID}}
	cases := []struct {
		name    string
		history []events.Event
		want    []string
	}{
		{"none", activeLB(), nil},
		{"requested", seq(activeLB(), []events.Event{req("amp-1")}), []string{"amp-1"}},
		{"requested twice, kept once", seq(activeLB(), []events.Event{req("amp-1"), req("amp-1")}), []string{"amp-1"}},
		{"two amphorae, sorted", seq(activeLB(), []events.Event{second, req("amp-1"), req("amp-0")}), []string{"amp-0", "amp-1"}},
		{"unknown amphora ignored", seq(activeLB(), []events.Event{req("amp-9")}), nil},
		{"updated", seq(activeLB(), []events.Event{req("amp-1"), events.AmphoraAgentConfigUpdated{LoadBalancerID: lbID, AmphoraID: "amp-1"}}), nil},
		{"failed", seq(activeLB(), []events.Event{req("amp-1"), events.AmphoraAgentConfigUpdateFailed{LoadBalancerID: lbID, AmphoraID: "amp-1"}}), nil},
		{"amphora deleted", seq(activeLB(), []events.Event{req("amp-1"), events.AmphoraDeleted{LoadBalancerID: lbID, AmphoraID: "amp-1"}}), nil},
		{"load balancer deleted", seq(activeLB(), []events.Event{req("amp-1"),
			events.LoadBalancerDeleteRequested{LoadBalancerID: lbID}, events.LoadBalancerDeleted{LoadBalancerID: lbID}}), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := given(tc.history...)
			if !reflect.DeepEqual(s.AgentConfigPending, tc.want) {
				t.Fatalf("AgentConfigPending = %v, want %v", s.AgentConfigPending, tc.want)
			}
		})
	}
	// A request changes no status and starts no operation.
	s := given(seq(activeLB(), []events.Event{req("amp-1")})...)
	if s.LoadBalancer.ProvisioningStatus != Active || s.Operation != "" || s.PendingWork() {
		t.Fatalf("after a request: status %s, operation %q", s.LoadBalancer.ProvisioningStatus, s.Operation)
	}
	// Clone copies the pending list.
	c := s.Clone()
	c = Evolve(c, s.Version+1, at(s.Version+1), events.AmphoraAgentConfigUpdated{LoadBalancerID: lbID, AmphoraID: "amp-1"})
	if len(c.AgentConfigPending) != 0 || !reflect.DeepEqual(s.AgentConfigPending, []string{"amp-1"}) {
		t.Fatalf("clone %v, original %v", c.AgentConfigPending, s.AgentConfigPending)
	}
}
