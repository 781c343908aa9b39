// Package health is the health manager, Octavia's
// amphorae/drivers/health/heartbeat_udp.py (UpdateHealthDb) and
// controller/healthmanager/health_manager.py, event-sourced.
//
// # Heartbeats
//
// HandleHeartbeat takes an authenticated heartbeat (the receiver in
// adapters/amphora/heartbeat checks the HMAC and drops replays), finds the
// amphora's load balancer in the read model's amphorae, loads the graph's
// state and derives operating statuses exactly as UpdateHealthDb does
// (derive.go). Only when a status differs from the state is one
// RecordOperatingStatuses executed, listing the changed entries: an idle
// load balancer costs no event. The listeners' counters (version 3
// deltas) are accumulated into the read model's stats without any event.
//
// A heartbeat counts as a sign of life only when every enabled listener
// reports (or the load balancer is PENDING_* or disabled), as Octavia only
// refreshes amphora_health then: an amphora whose HAProxy stopped serving is
// failed over too.
//
// # Failover
//
// Run looks every CheckInterval for amphorae silent for longer than
// HeartbeatTimeout, ALLOCATED, whose load balancer is ACTIVE or ERROR
// (Octavia's FAILOVERABLE_STATUSES), and executes FailoverLoadBalancer on
// their load balancer; the provisioning saga does the rest. The amphora is
// then busy: never failed over again (a failed failover leaves it ERROR,
// which is not failed over either, as Octavia). A load balancer in
// PENDING_* is looked at again at the next round. When FailoverThreshold or
// more amphorae are stale at once nothing is failed over (a controller-side
// network problem): it is logged once.
//
// The watched amphorae are those of the read model whose amphora driver
// sends heartbeats (not "noop"). Run's first look seeds them all with a last
// seen time of now, so an amphora that died while the controller was down is
// failed over HeartbeatTimeout after the start; each round adds amphorae
// booted since (from their discovery) and forgets deleted ones. Last seen
// times live in memory only: a restart grants every amphora a fresh
// HeartbeatTimeout.
package health
