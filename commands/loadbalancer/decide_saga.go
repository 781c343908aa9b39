package loadbalancer

import (
	"github.com/octavia-es/octavia-es/events"
)

// Saga commands record what a driver did. They are idempotent: a command
// whose outcome is already recorded, or that no longer applies to the
// state (a stale or redelivered message), yields no events and no error.

func decideVipAllocated(s State, c RecordVipAllocated) ([]events.Event, error) {
	if err := requireLoadBalancer(s, ""); err != nil {
		return nil, err
	}
	if s.VipAllocated {
		return nil, nil
	}
	ev := c.Vip
	ev.LoadBalancerID = s.LoadBalancerID()
	return []events.Event{ev}, nil
}

// decideVipReleased is accepted after the load balancer is gone too, so a
// late compensation can still be recorded.
func decideVipReleased(s State, c RecordVipReleased) ([]events.Event, error) {
	if !s.Exists {
		return nil, notFound(resLoadBalancer, s.LoadBalancerID())
	}
	if !s.VipAllocated {
		return nil, nil
	}
	port := c.VipPortID
	if port == "" {
		port = strOr(s.LoadBalancer.Spec.VipPortID)
	}
	return []events.Event{events.VipReleased{LoadBalancerID: s.LoadBalancerID(), VipPortID: port}}, nil
}

func decideAmphoraBooted(s State, c RecordAmphoraBooted) ([]events.Event, error) {
	if err := requireLoadBalancer(s, ""); err != nil {
		return nil, err
	}
	if c.Amphora.ID == "" {
		return nil, validationFailure("Missing amphora id.")
	}
	if _, known := s.Amphorae[c.Amphora.ID]; known {
		return nil, nil
	}
	amp := c.Amphora
	amp.LoadBalancerID = s.LoadBalancerID()
	return []events.Event{events.AmphoraBooted{LoadBalancerID: s.LoadBalancerID(), Amphora: amp}}, nil
}

// decideAmphoraDeleted is accepted after the load balancer is gone too.
func decideAmphoraDeleted(s State, c RecordAmphoraDeleted) ([]events.Event, error) {
	if !s.Exists {
		return nil, notFound(resLoadBalancer, s.LoadBalancerID())
	}
	if _, known := s.Amphorae[c.AmphoraID]; !known {
		return nil, nil
	}
	return []events.Event{events.AmphoraDeleted{
		LoadBalancerID: s.LoadBalancerID(), AmphoraID: c.AmphoraID, Reason: c.Reason,
	}}, nil
}

// configurationOutcomeApplies: configuration outcomes only settle a
// pending "update" operation, and only if the configuration was rendered
// from a state that includes the pending change (StreamVersion 0 means
// "the current state").
func configurationOutcomeApplies(s State, streamVersion int64) bool {
	if s.Operation != "update" {
		return false
	}
	return streamVersion == 0 || s.PendingChangesAt == 0 || streamVersion >= s.PendingChangesAt
}

func decideConfigurationApplied(s State, c RecordConfigurationApplied) ([]events.Event, error) {
	if err := requireLoadBalancer(s, ""); err != nil {
		return nil, err
	}
	if !configurationOutcomeApplies(s, c.StreamVersion) {
		return nil, nil
	}
	v := c.StreamVersion
	if v == 0 {
		v = s.Version
	}
	return []events.Event{events.ConfigurationApplied{LoadBalancerID: s.LoadBalancerID(), StreamVersion: v}}, nil
}

func decideConfigurationFailed(s State, c RecordConfigurationFailed) ([]events.Event, error) {
	if err := requireLoadBalancer(s, ""); err != nil {
		return nil, err
	}
	if !configurationOutcomeApplies(s, c.StreamVersion) {
		return nil, nil
	}
	v := c.StreamVersion
	if v == 0 {
		v = s.Version
	}
	return []events.Event{events.ConfigurationFailed{
		LoadBalancerID: s.LoadBalancerID(), StreamVersion: v, Reason: c.Reason,
	}}, nil
}

// decideActivate ends a create, update or failover.
func decideActivate(s State) ([]events.Event, error) {
	if err := requireLoadBalancer(s, ""); err != nil {
		return nil, err
	}
	switch s.Operation {
	case "create", "update", "failover":
	default:
		return nil, nil
	}
	if st := s.LoadBalancer.ProvisioningStatus; st != PendingCreate && st != PendingUpdate {
		return nil, nil
	}
	return []events.Event{events.LoadBalancerActivated{LoadBalancerID: s.LoadBalancerID()}}, nil
}

func decideFailProvisioning(s State, c FailProvisioning) ([]events.Event, error) {
	if err := requireLoadBalancer(s, ""); err != nil {
		return nil, err
	}
	if s.Operation == "" {
		return nil, nil
	}
	return []events.Event{events.LoadBalancerProvisioningFailed{
		LoadBalancerID: s.LoadBalancerID(), Operation: s.Operation, Step: c.Step, Reason: c.Reason,
	}}, nil
}

func decideLoadBalancerDeleted(s State) ([]events.Event, error) {
	if !s.Exists {
		return nil, notFound(resLoadBalancer, s.LoadBalancerID())
	}
	if s.Gone {
		return nil, nil
	}
	if s.Operation != "delete" {
		return nil, refuse(Invalid, "Load Balancer %s is not being deleted (provisioning status %s).",
			s.LoadBalancerID(), s.LoadBalancer.ProvisioningStatus)
	}
	return []events.Event{events.LoadBalancerDeleted{LoadBalancerID: s.LoadBalancerID()}}, nil
}

// decideOperatingStatuses keeps only the entries that change a known
// object; nothing to change → no events.
func decideOperatingStatuses(s State, c RecordOperatingStatuses) ([]events.Event, error) {
	if err := requireLoadBalancer(s, ""); err != nil {
		return nil, err
	}
	in := c.Change
	out := events.OperatingStatusesChanged{LoadBalancerID: s.LoadBalancerID()}
	changed := false
	if in.LoadBalancer != "" && in.LoadBalancer != s.LoadBalancer.OperatingStatus {
		out.LoadBalancer = in.LoadBalancer
		changed = true
	}
	out.Listeners = changedStatuses(s.Listeners, in.Listeners, &changed)
	out.Pools = changedStatuses(s.Pools, in.Pools, &changed)
	out.Members = changedStatuses(s.Members, in.Members, &changed)
	out.HealthMonitors = changedStatuses(s.HealthMonitors, in.HealthMonitors, &changed)
	if !changed {
		return nil, nil
	}
	return []events.Event{out}, nil
}

func changedStatuses[T any](nodes map[string]*Node[T], in map[string]string, changed *bool) map[string]string {
	var out map[string]string
	for id, st := range in {
		n := nodes[id]
		if n == nil || st == "" || n.OperatingStatus == st {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[id] = st
		*changed = true
	}
	return out
}
