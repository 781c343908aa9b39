package loadbalancer

import (
	"github.com/octavia-es/octavia-es/events"
)

// lbFixed are the attributes a load balancer PUT cannot change.
var lbFixed = []string{
	"id", "project_id", "vip_address", "vip_port_id", "vip_subnet_id", "vip_network_id",
	"additional_vips", "provider", "flavor_id", "availability_zone",
}

func decideCreateLoadBalancer(s State, c CreateLoadBalancer) ([]events.Event, error) {
	if c.Spec.ID == "" {
		return nil, refuse(Invalid, "Validation failure: Missing load balancer id.")
	}
	if s.Exists {
		return nil, idAlreadyExists()
	}
	if s.ID != "" && s.ID != c.Spec.ID {
		return nil, refuse(Invalid, "Validation failure: load balancer id %s does not match stream %s.", c.Spec.ID, s.ID)
	}
	if c.Vip != nil || len(c.Pools) > 0 || len(c.Listeners) > 0 {
		return decideLoadBalancerGraph(s, c)
	}
	return []events.Event{events.LoadBalancerCreateRequested{LoadBalancer: c.Spec}}, nil
}

// decideUpdateLoadBalancer is LoadBalancersController.put: PUT only from
// ACTIVE (_test_lb_status).
func decideUpdateLoadBalancer(s State, c UpdateLoadBalancer) ([]events.Event, error) {
	if err := requireLoadBalancer(s, ""); err != nil {
		return nil, err
	}
	spec, err := mergePatch(s.LoadBalancer.Spec, c.Patch, lbFixed...)
	if err != nil {
		return nil, err
	}
	if st := s.LoadBalancer.ProvisioningStatus; st != Active {
		return nil, lbPendingState(st, s.LoadBalancerID())
	}
	return []events.Event{events.LoadBalancerUpdateRequested{LoadBalancer: spec}}, nil
}

// decideDeleteLoadBalancer is LoadBalancersController.delete: children
// without cascade are refused before the status is tested; DELETE is
// allowed from ACTIVE or ERROR (constants.DELETABLE_STATUSES).
func decideDeleteLoadBalancer(s State, c DeleteLoadBalancer) ([]events.Event, error) {
	if err := requireLoadBalancer(s, ""); err != nil {
		return nil, err
	}
	id := s.LoadBalancerID()
	if (len(s.Listeners) > 0 || len(s.Pools) > 0) && !c.Cascade {
		return nil, validationFailure("Cannot delete Load Balancer %s - it has children", id)
	}
	if st := s.LoadBalancer.ProvisioningStatus; st != Active && st != ErrorStatus {
		return nil, lbPendingState(st, id)
	}
	return []events.Event{events.LoadBalancerDeleteRequested{LoadBalancerID: id, Cascade: c.Cascade}}, nil
}

// decideFailoverLoadBalancer is FailoverController.put: from ACTIVE or
// ERROR (constants.FAILOVERABLE_STATUSES).
func decideFailoverLoadBalancer(s State) ([]events.Event, error) {
	if err := requireLoadBalancer(s, ""); err != nil {
		return nil, err
	}
	if st := s.LoadBalancer.ProvisioningStatus; st != Active && st != ErrorStatus {
		return nil, lbPendingState(st, s.LoadBalancerID())
	}
	return []events.Event{events.LoadBalancerFailoverRequested{LoadBalancerID: s.LoadBalancerID()}}, nil
}
