package loadbalancer

import (
	"slices"

	"github.com/octavia-es/octavia-es/events"
)

const resAmphora = "Amphora"

// decideUpdateAgentConfig records the request whatever the provisioning
// status (Octavia's AmphoraUpdateController checks none): the push waits
// for a running operation to end, and an amphora that operation deletes
// drops its request. Every request is recorded, even one already pending:
// it is an operator's action in the history.
func decideUpdateAgentConfig(s State, c UpdateAmphoraAgentConfig) ([]events.Event, error) {
	if !s.Alive() {
		return nil, notFound(resAmphora, c.AmphoraID)
	}
	if _, known := s.Amphorae[c.AmphoraID]; !known || c.AmphoraID == "" {
		return nil, notFound(resAmphora, c.AmphoraID)
	}
	return []events.Event{events.AmphoraAgentConfigUpdateRequested{
		LoadBalancerID: s.LoadBalancerID(), AmphoraID: c.AmphoraID,
	}}, nil
}

// The outcomes settle a pending request; anything else (a repeat, an
// amphora deleted meanwhile) records nothing.

func decideAgentConfigUpdated(s State, c RecordAmphoraAgentConfigUpdated) ([]events.Event, error) {
	if !s.Exists {
		return nil, notFound(resLoadBalancer, s.LoadBalancerID())
	}
	if !slices.Contains(s.AgentConfigPending, c.AmphoraID) {
		return nil, nil
	}
	return []events.Event{events.AmphoraAgentConfigUpdated{LoadBalancerID: s.LoadBalancerID(), AmphoraID: c.AmphoraID}}, nil
}

func decideAgentConfigFailed(s State, c RecordAmphoraAgentConfigFailed) ([]events.Event, error) {
	if !s.Exists {
		return nil, notFound(resLoadBalancer, s.LoadBalancerID())
	}
	if !slices.Contains(s.AgentConfigPending, c.AmphoraID) {
		return nil, nil
	}
	return []events.Event{events.AmphoraAgentConfigUpdateFailed{
		LoadBalancerID: s.LoadBalancerID(), AmphoraID: c.AmphoraID, Reason: c.Reason,
	}}, nil
}
