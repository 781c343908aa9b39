package sagas

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/octavia-es/octavia-es/adapters/amphora"
	"github.com/octavia-es/octavia-es/adapters/compute"
	"github.com/octavia-es/octavia-es/adapters/network"
	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
)

// run executes one step: its driver calls, then its outcome commands. It
// returns the latest state it saw, also on error, so that compensation
// starts from what is recorded.
func (p *Provisioner) run(ctx context.Context, s loadbalancer.State, step Step, md events.Metadata, log *slog.Logger) (loadbalancer.State, error) {
	switch step.Kind {
	case AllocateVIP:
		return p.allocateVIP(ctx, s, md)
	case BootAmphora:
		return p.bootAmphora(ctx, s, step, md, log)
	case ConfigureAndActivate:
		return p.configure(ctx, s, step, md, true)
	case ApplyConfiguration:
		return p.configure(ctx, s, step, md, false)
	case DeleteAmphorae:
		return p.deleteAmphorae(ctx, s, step.Amphorae, "", false, md, log)
	case DeleteOldAmphorae:
		return p.deleteAmphorae(ctx, s, step.Amphorae, "failover", true, md, log)
	case ReleaseVIP:
		return p.releaseVIP(ctx, s, md)
	case RecordDeleted:
		return p.record(ctx, s, loadbalancer.RecordLoadBalancerDeleted{}, md)
	case UpdateAgentConfig:
		return p.updateAgentConfig(ctx, s, step.Amphorae, md, log)
	}
	return s, fmt.Errorf("sagas: unknown step %q", step.Kind)
}

// record executes an outcome command and returns the state after it.
func (p *Provisioner) record(ctx context.Context, s loadbalancer.State, cmd loadbalancer.Command, md events.Metadata) (loadbalancer.State, error) {
	res, err := p.exec.Execute(ctx, s.LoadBalancerID(), cmd, md)
	if err != nil {
		return s, fmt.Errorf("record %T: %w", cmd, err)
	}
	return res.State, nil
}

func (p *Provisioner) allocateVIP(ctx context.Context, s loadbalancer.State, md events.Metadata) (loadbalancer.State, error) {
	spec := s.LoadBalancer.Spec
	req := network.VIPRequest{
		LoadBalancerID: s.LoadBalancerID(),
		SubnetID:       str(spec.VipSubnetID),
		Address:        str(spec.VipAddress),
		PortID:         str(spec.VipPortID),
		NetworkID:      str(spec.VipNetworkID),
	}
	var vip network.VIP
	err := p.try(ctx, "network.allocate_vip", func(ctx context.Context) (err error) {
		vip, err = p.d.Network.AllocateVIP(ctx, req)
		return err
	})
	if err != nil {
		return s, err
	}
	return p.record(ctx, s, loadbalancer.RecordVipAllocated{Vip: events.VipAllocated{
		LoadBalancerID: s.LoadBalancerID(),
		VipAddress:     vip.Address,
		VipPortID:      vip.PortID,
		VipSubnetID:    vip.SubnetID,
		VipNetworkID:   vip.NetworkID,
	}}, md)
}

// bootAmphora creates the instance, waits for its agent to answer (as
// Octavia's AmphoraComputeConnectivityWait), then records it. An instance
// that never answers is deleted: it is not recorded, so nothing else would.
func (p *Provisioner) bootAmphora(ctx context.Context, s loadbalancer.State, step Step, md events.Metadata, log *slog.Logger) (loadbalancer.State, error) {
	spec := s.LoadBalancer.Spec
	req := compute.AmphoraRequest{
		LoadBalancerID:   s.LoadBalancerID(),
		AmphoraID:        step.AmphoraID,
		Role:             step.Role,
		FlavorID:         str(spec.FlavorID),
		AvailabilityZone: str(spec.AvailabilityZone),
	}
	var inst compute.Amphora
	err := p.try(ctx, "compute.create_amphora", func(ctx context.Context) (err error) {
		inst, err = p.d.Compute.CreateAmphora(ctx, req)
		return err
	})
	if err != nil {
		return s, err
	}
	amp := events.Amphora{
		ID:             step.AmphoraID,
		LoadBalancerID: s.LoadBalancerID(),
		ComputeID:      inst.ComputeID,
		Role:           step.Role,
		LBNetworkIP:    ptr(inst.LBNetworkIP),
		AgentPort:      inst.AgentPort,
		ComputeFlavor:  ptr(inst.ComputeFlavor),
		ImageID:        ptr(inst.ImageID),
		ComputeDriver:  p.d.ComputeName,
		NetworkDriver:  p.d.NetworkName,
		AmphoraDriver:  p.d.AmphoraName,
	}
	err = p.tryFor(ctx, "amphora.get_info", 0, p.cfg.AmphoraConnectTimeout, func(ctx context.Context) error {
		_, err := p.d.Amphora.GetInfo(ctx, amp)
		return err
	})
	if err != nil {
		var failed *stepFailure
		if errors.As(err, &failed) {
			if derr := p.try(ctx, "compute.delete_amphora", func(ctx context.Context) error {
				return p.d.Compute.DeleteAmphora(ctx, inst.ComputeID)
			}); derr != nil {
				log.ErrorContext(ctx, "amphora never answered and could not be deleted; instance abandoned",
					"amphora_id", amp.ID, "compute_id", inst.ComputeID, "error", derr)
			}
		}
		return s, err
	}
	return p.record(ctx, s, loadbalancer.RecordAmphoraBooted{Amphora: amp}, md)
}

// configure pushes the configuration to every amphora of the step; with
// activate it plugs the VIP first and ends with ActivateLoadBalancer,
// otherwise it records RecordConfigurationApplied.
func (p *Provisioner) configure(ctx context.Context, s loadbalancer.State, step Step, md events.Metadata, activate bool) (loadbalancer.State, error) {
	cfg := render(s)
	var vip amphora.VIP
	if activate {
		var err error
		if vip, err = p.vip(ctx, s.LoadBalancer.Spec); err != nil {
			return s, err
		}
	}
	for _, id := range step.Amphorae {
		amp := s.Amphorae[id]
		if activate {
			if err := p.try(ctx, "amphora.plug_vip", func(ctx context.Context) error {
				return p.d.Amphora.PlugVIP(ctx, amp, vip)
			}); err != nil {
				return s, err
			}
		}
		if err := p.try(ctx, "amphora.update_config", func(ctx context.Context) error {
			return p.d.Amphora.UpdateConfig(ctx, amp, cfg)
		}); err != nil {
			return s, err
		}
	}
	if activate {
		return p.record(ctx, s, loadbalancer.ActivateLoadBalancer{}, md)
	}
	return p.record(ctx, s, loadbalancer.RecordConfigurationApplied{StreamVersion: step.StreamVersion}, md)
}

// vip is the load balancer's VIP with its subnet's CIDR and gateway (as
// Octavia's GetSubnetFromVIP before PlugVIPAmphora).
func (p *Provisioner) vip(ctx context.Context, spec events.LoadBalancer) (amphora.VIP, error) {
	vip := amphora.VIP{
		Address:   str(spec.VipAddress),
		PortID:    str(spec.VipPortID),
		SubnetID:  str(spec.VipSubnetID),
		NetworkID: str(spec.VipNetworkID),
	}
	if vip.SubnetID == "" {
		return vip, nil
	}
	err := p.try(ctx, "network.get_subnet", func(ctx context.Context) error {
		sn, err := p.d.Network.GetSubnet(ctx, vip.SubnetID)
		vip.SubnetCIDR, vip.GatewayIP = sn.CIDR, sn.GatewayIP
		return err
	})
	return vip, err
}

// deleteAmphorae deletes each instance and records it. With abandon (the
// failed amphorae of a failover, as Octavia's passive_failure), an
// instance that cannot be deleted is recorded as deleted anyway, with the
// reason, and the operation goes on.
func (p *Provisioner) deleteAmphorae(ctx context.Context, s loadbalancer.State, ids []string, reason string, abandon bool, md events.Metadata, log *slog.Logger) (loadbalancer.State, error) {
	for _, id := range ids {
		amp := s.Amphorae[id]
		r := reason
		err := p.try(ctx, "compute.delete_amphora", func(ctx context.Context) error {
			return p.d.Compute.DeleteAmphora(ctx, amp.ComputeID)
		})
		var failed *stepFailure
		if err != nil && (!abandon || !errors.As(err, &failed)) {
			return s, err
		}
		if err != nil {
			log.ErrorContext(ctx, "compute delete failed; amphora abandoned, clean it up by hand",
				"amphora_id", id, "compute_id", amp.ComputeID, "error", failed.Err)
			r = fmt.Sprintf("%s: %v; compute instance %s abandoned", reason, failed, amp.ComputeID)
		}
		if s, err = p.record(ctx, s, loadbalancer.RecordAmphoraDeleted{AmphoraID: id, Reason: r}, md); err != nil {
			return s, err
		}
	}
	return s, nil
}

// updateAgentConfig pushes the controller's agent configuration to each
// amphora and records the outcome of each. A failed push is recorded with
// its reason (no status changes: the agent keeps its previous
// configuration) and is not compensated; the next amphora is still tried.
func (p *Provisioner) updateAgentConfig(ctx context.Context, s loadbalancer.State, ids []string, md events.Metadata, log *slog.Logger) (loadbalancer.State, error) {
	conf, ok := p.d.Amphora.(amphora.AgentConfigurer)
	for _, id := range ids {
		amp := s.Amphorae[id]
		var cmd loadbalancer.Command = loadbalancer.RecordAmphoraAgentConfigUpdated{AmphoraID: id}
		if !ok {
			// As Octavia's AmpDriverNotImplementedError, but recorded.
			cmd = loadbalancer.RecordAmphoraAgentConfigFailed{AmphoraID: id,
				Reason: fmt.Sprintf("amphora driver %s cannot update an agent's configuration", p.d.AmphoraName)}
		} else if err := p.try(ctx, "amphora.update_agent_config", func(ctx context.Context) error {
			return conf.UpdateAgentConfig(ctx, amp, p.cfg.AgentConfig)
		}); err != nil {
			var failed *stepFailure
			if !errors.As(err, &failed) {
				return s, err // ctx ended: left pending for a redelivery or Resume
			}
			log.WarnContext(ctx, "amphora agent configuration not updated", "amphora_id", id, "error", failed.Err)
			cmd = loadbalancer.RecordAmphoraAgentConfigFailed{AmphoraID: id, Reason: failed.Error()}
		}
		var err error
		if s, err = p.record(ctx, s, cmd, md); err != nil {
			return s, err
		}
	}
	return s, nil
}

func (p *Provisioner) releaseVIP(ctx context.Context, s loadbalancer.State, md events.Metadata) (loadbalancer.State, error) {
	port := str(s.LoadBalancer.Spec.VipPortID)
	if err := p.try(ctx, "network.release_vip", func(ctx context.Context) error {
		return p.d.Network.ReleaseVIP(ctx, s.LoadBalancerID(), port)
	}); err != nil {
		return s, err
	}
	return p.record(ctx, s, loadbalancer.RecordVipReleased{VipPortID: port}, md)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// ptr is nil for "", as Octavia stores NULL for an unknown attribute.
func ptr(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}
