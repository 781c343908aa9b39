package sagas

import (
	"maps"
	"slices"
	"strconv"

	"github.com/google/uuid"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
)

// StepKind names a step of the provisioning process. The names are
// recorded in LoadBalancerProvisioningFailed.Step: never rename one.
type StepKind string

// Steps, in the order an operation runs them (see doc.go).
const (
	None                 StepKind = ""
	AllocateVIP          StepKind = "allocate_vip"
	BootAmphora          StepKind = "boot_amphora"
	ConfigureAndActivate StepKind = "configure_and_activate"
	ApplyConfiguration   StepKind = "apply_configuration"
	DeleteAmphorae       StepKind = "delete_amphorae"
	ReleaseVIP           StepKind = "release_vip"
	RecordDeleted        StepKind = "record_deleted"
	DeleteOldAmphorae    StepKind = "delete_old_amphorae"
	// UpdateAgentConfig pushes the agent configuration to the amphorae
	// an operator asked it for; it runs when no operation is under way.
	UpdateAgentConfig StepKind = "update_agent_config"
)

// Operations, as State.Operation spells them.
const (
	OpCreate   = "create"
	OpUpdate   = "update"
	OpDelete   = "delete"
	OpFailover = "failover"
)

// RoleStandalone is Octavia's role of the one amphora of a SINGLE topology.
const RoleStandalone = "STANDALONE"

// amphoraNamespace makes a new amphora's id a function of the load balancer
// and the stream version the boot was decided at: a boot retried after a
// crash asks the compute driver for the same amphora again.
var amphoraNamespace = uuid.MustParse("9e4c2b1a-3d5f-4a6b-8c7d-1e2f3a4b5c6e")

// Step is what the saga does next for a load balancer.
type Step struct {
	Kind      StepKind
	Operation string
	// Amphorae the step acts on (sorted ids).
	Amphorae []string
	// BootAmphora: the new amphora's id and role.
	AmphoraID string
	Role      string
	// ApplyConfiguration: the stream version the configuration is
	// rendered from.
	StreamVersion int64
}

// Next is the step that moves s towards the end of its operation, computed
// from the state alone: a redelivered message or a restart resumes where
// the events say the work stands. Pure.
func Next(s loadbalancer.State) Step {
	if !s.Exists || s.Gone {
		return Step{}
	}
	all := slices.Sorted(maps.Keys(s.Amphorae))
	step := Step{Operation: s.Operation}
	switch s.Operation {
	case OpCreate:
		switch {
		case !s.VipAllocated:
			step.Kind = AllocateVIP
		case len(all) == 0:
			return boot(s, RoleStandalone)
		default:
			step.Kind, step.Amphorae = ConfigureAndActivate, all
		}
	case OpUpdate:
		step.Kind, step.Amphorae, step.StreamVersion = ApplyConfiguration, all, s.Version
	case OpDelete:
		switch {
		case len(all) > 0:
			step.Kind, step.Amphorae = DeleteAmphorae, all
		case s.VipAllocated:
			step.Kind = ReleaseVIP
		default:
			step.Kind = RecordDeleted
		}
	case OpFailover:
		var old, fresh []string
		for _, id := range all {
			if slices.Contains(s.FailoverOld, id) {
				old = append(old, id)
			} else {
				fresh = append(fresh, id)
			}
		}
		switch {
		case !s.VipAllocated:
			step.Kind = AllocateVIP
		case len(fresh) == 0:
			role := RoleStandalone
			if len(old) > 0 && s.Amphorae[old[0]].Role != "" {
				role = s.Amphorae[old[0]].Role
			}
			return boot(s, role)
		case len(old) > 0:
			// As Octavia's failover flow: the failed amphora goes before the
			// replacement takes the VIP (both cannot hold it at once).
			step.Kind, step.Amphorae = DeleteOldAmphorae, old
		default:
			step.Kind, step.Amphorae = ConfigureAndActivate, fresh
		}
	case "":
		if len(s.AgentConfigPending) == 0 {
			return Step{}
		}
		step.Kind, step.Amphorae = UpdateAgentConfig, slices.Clone(s.AgentConfigPending)
	default:
		return Step{} // an operation this version does not know
	}
	return step
}

func boot(s loadbalancer.State, role string) Step {
	name := s.LoadBalancerID() + "/" + strconv.FormatInt(s.Version, 10)
	return Step{
		Kind:      BootAmphora,
		Operation: s.Operation,
		AmphoraID: uuid.NewSHA1(amphoraNamespace, []byte(name)).String(),
		Role:      role,
	}
}
