// Package sagas holds the process managers. The provisioning saga drives a
// load balancer's pending operation (State.Operation) to its end through the
// network, compute and amphora drivers, as Octavia's controller worker flows
// do (controller/worker/v2/flows), and records each outcome as an event
// through the aggregate's saga commands.
//
// There is no saga state besides the stream: Next computes the step from the
// load balancer's state alone, so a redelivered message, a second process or
// a restart (Resume) continues exactly where the events say the work stands.
// Driver calls are idempotent (a VIP per load balancer, an amphora per
// amphora id, which Next derives from the stream version the boot was
// decided at; the whole configuration per push) and so are the outcome
// commands (a repeat records nothing).
//
// # Steps
//
//	operation  when                    step                    driver calls                          outcome command
//	create     VIP not allocated       allocate_vip            network.AllocateVIP                   RecordVipAllocated
//	create     no amphora              boot_amphora            compute.CreateAmphora, GetInfo        RecordAmphoraBooted
//	create     amphora booted          configure_and_activate  GetSubnet; PlugVIP+UpdateConfig each  ActivateLoadBalancer
//	update     always                  apply_configuration     amphora.UpdateConfig each             RecordConfigurationApplied
//	delete     amphorae left           delete_amphorae         compute.DeleteAmphora each            RecordAmphoraDeleted each
//	delete     VIP allocated           release_vip             network.ReleaseVIP                    RecordVipReleased
//	delete     nothing left            record_deleted          -                                     RecordLoadBalancerDeleted
//	failover   VIP not allocated       allocate_vip            network.AllocateVIP                   RecordVipAllocated
//	failover   no new amphora          boot_amphora            as create (the old amphora's role)    RecordAmphoraBooted
//	failover   old amphorae left       delete_old_amphorae     compute.DeleteAmphora each            RecordAmphoraDeleted each
//	failover   only new amphorae       configure_and_activate  as create                             ActivateLoadBalancer
//	(none)     agent config requested  update_agent_config     amphora.AgentConfigurer each          RecordAmphoraAgentConfigUpdated/Failed each
//
// An agent configuration update (PUT /v2/octavia/amphorae/{id}/config) is
// not an operation: it locks nothing and waits for a running operation to
// end. It pushes Config.AgentConfig; a push that still fails after its
// retries (or a driver without the capability) is recorded as
// RecordAmphoraAgentConfigFailed with the reason, nothing compensated and
// no status changed. A request in flight when the process stops is not
// resumed at start-up (Resume is given the load balancers in PENDING_*): it
// runs with the next event of that load balancer.
//
// A failover deletes the failed amphora before the replacement takes the VIP,
// as Octavia's failover flow does (both cannot hold one address). New
// amphorae are those not in State.FailoverOld.
//
// # Failures and compensation
//
// Each driver call is tried Config.StepAttempts times with exponential
// backoff (errors that cannot change, such as network.ErrAddressInUse, are
// not retried; a booted amphora's agent is polled up to
// Config.AmphoraConnectTimeout). When it still fails, the operation is
// compensated, every compensation recorded as its own event, and the load
// balancer never stays in PENDING_* (amphorae deleted by a compensation are
// recorded with Reason "reverted: <failure>"):
//
//	operation  compensation                                  outcome command
//	create     delete every amphora, release the VIP         FailProvisioning{Step, Reason}: LB ERROR
//	update     -                                             RecordConfigurationFailed: changed objects ERROR, LB ACTIVE
//	delete     -                                             FailProvisioning: LB ERROR, can be deleted again
//	failover   delete the new amphorae (the VIP stays)       FailProvisioning: LB ERROR
//
// An amphora booted but never answering is deleted by the boot step itself
// (it was never recorded). An old amphora that a failover cannot delete is
// abandoned as Octavia's passive failure does: recorded deleted with the
// reason, logged at ERROR, and the failover goes on. A cleanup call that
// fails during compensation is logged and named in the recorded reason; what
// it could not undo stays recorded, so a later delete retries it.
//
// When the context ends (shutdown) nothing is compensated: the operation
// stays pending and Resume picks it up at the next start. A store failure is
// returned to the bus, which redelivers.
//
// # Concurrency
//
// Handle serialises the steps of one load balancer in this process (a keyed
// mutex) and bounds how many load balancers are worked on at once
// (Config.MaxConcurrent, the back-pressure the in-process bus lacks). Across
// processes, the store's optimistic concurrency plus idempotent drivers and
// outcome commands make a duplicate harmless.
package sagas
