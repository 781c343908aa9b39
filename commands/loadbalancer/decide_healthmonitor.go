package loadbalancer

import (
	"encoding/json"
	"strconv"

	"github.com/octavia-es/octavia-es/events"
)

// healthMonitorFixed are the attributes a health monitor PUT cannot change.
var healthMonitorFixed = []string{"id", "project_id", "pool_id", "type"}

// decideCreateHealthMonitor is HealthMonitorController.post: pool, type
// against the pool protocol, pool and load balancer status, one monitor
// per pool.
func decideCreateHealthMonitor(s State, c CreateHealthMonitor) ([]events.Event, error) {
	return createHealthMonitor(s, c.Spec, true)
}

// createHealthMonitor decides one health monitor; without checkStatus the
// statuses of its pool and load balancer are the caller's to check (see
// createListener).
func createHealthMonitor(s State, sp events.HealthMonitor, checkStatus bool) ([]events.Event, error) {
	pool := s.Pools[sp.PoolID]
	if pool == nil || !s.Alive() {
		return nil, notFound(resPool, sp.PoolID)
	}
	if err := checkMonitorType(pool.Spec.Protocol, sp.Type, sp.Delay); err != nil {
		return nil, err
	}
	if checkStatus {
		if err := requirePoolMutable(s, sp.PoolID); err != nil {
			return nil, err
		}
	}
	if s.PoolHealthMonitor(sp.PoolID) != nil {
		return nil, duplicateHealthMonitor()
	}
	if err := checkNewID(s, sp.ID); err != nil {
		return nil, err
	}
	sp.ProjectID = s.LoadBalancer.Spec.ProjectID
	return []events.Event{events.HealthMonitorCreateRequested{LoadBalancerID: s.LoadBalancerID(), HealthMonitor: sp}}, nil
}

// decideUpdateHealthMonitor is HealthMonitorController.put.
func decideUpdateHealthMonitor(s State, c UpdateHealthMonitor) ([]events.Event, error) {
	n := s.HealthMonitors[c.HealthMonitorID]
	if n == nil || !s.Alive() {
		return nil, notFound(resHealthMonitor, c.HealthMonitorID)
	}
	if err := validateUpdateHM(n.Spec, c.Patch); err != nil {
		return nil, err
	}
	sp, err := mergePatch(n.Spec, c.Patch, healthMonitorFixed...)
	if err != nil {
		return nil, err
	}
	if pool := s.Pools[n.Spec.PoolID]; pool != nil && isUDPOrSCTP(pool.Spec.Protocol) {
		if err := checkMonitorType(pool.Spec.Protocol, sp.Type, sp.Delay); err != nil {
			return nil, err
		}
	}
	if err := requirePoolMutable(s, n.Spec.PoolID); err != nil {
		return nil, err
	}
	if err := requireNotPending(resHealthMonitor, c.HealthMonitorID, n.ProvisioningStatus); err != nil {
		return nil, err
	}
	return []events.Event{events.HealthMonitorUpdateRequested{LoadBalancerID: s.LoadBalancerID(), HealthMonitor: sp}}, nil
}

// decideDeleteHealthMonitor is HealthMonitorController.delete.
func decideDeleteHealthMonitor(s State, c DeleteHealthMonitor) ([]events.Event, error) {
	n := s.HealthMonitors[c.HealthMonitorID]
	if n == nil || !s.Alive() {
		return nil, notFound(resHealthMonitor, c.HealthMonitorID)
	}
	if err := requirePoolMutable(s, n.Spec.PoolID); err != nil {
		return nil, err
	}
	if err := requireNotPending(resHealthMonitor, c.HealthMonitorID, n.ProvisioningStatus); err != nil {
		return nil, err
	}
	return []events.Event{events.HealthMonitorDeleteRequested{
		LoadBalancerID: s.LoadBalancerID(), PoolID: n.Spec.PoolID, HealthMonitorID: c.HealthMonitorID,
	}}, nil
}

// checkMonitorType: UDP/SCTP pools take UDP-CONNECT, SCTP, TCP or HTTP
// monitors (UDP-CONNECT no faster than the configured minimum); other
// pools refuse UDP-CONNECT and SCTP monitors.
func checkMonitorType(poolProtocol, hmType string, delay int) error {
	if isUDPOrSCTP(poolProtocol) {
		switch hmType {
		case hmUDPConnect, hmSCTP, hmTCP, hmHTTP:
		default:
			return validationFailure("The associated pool protocol is %s, so only a %s health monitor is supported.",
				poolProtocol, "UDP-CONNECT/SCTP/TCP/HTTP")
		}
		if hmType == hmUDPConnect && delay < udpConnectMinDelay {
			return validationFailure("The request delay value %d should be larger than %d for %s health monitor type.",
				delay, udpConnectMinDelay, hmUDPConnect)
		}
		return nil
	}
	if hmType == hmUDPConnect || hmType == hmSCTP {
		return validationFailure("The %s type is only supported for pools of type %s.", hmType, "UDP/SCTP")
	}
	return nil
}

// validateUpdateHM is HealthMonitorController._validate_update_hm, which
// depends on the monitor's current type and HTTP attributes.
func validateUpdateHM(cur events.HealthMonitor, p Patch) error {
	if cur.Type != hmHTTP && cur.Type != hmHTTPS {
		for _, k := range []string{"http_method", "url_path", "expected_codes"} {
			if p.has(k) {
				return invalidOption(k, "health monitors of type "+cur.Type)
			}
		}
	}
	for _, k := range []string{"delay", "max_retries", "timeout"} {
		if p.isNull(k) {
			return invalidOption("None", k)
		}
	}
	reqVersion := patchFloat(p, "http_version")
	reqDomain, _ := p.str("domain_name")
	if reqDomain != "" && !nonZero(cur.HTTPVersion) && !nonZero(reqVersion) {
		return validationFailure("'http_version' must be specified when 'domain_name' is provided.")
	}
	version := reqVersion
	if !nonZero(version) {
		version = cur.HTTPVersion
	}
	if nonZero(version) && (strOr(cur.DomainName) != "" || reqDomain != "") && *version < 1.1 {
		return invalidOption("http_version "+pyFloat(*version), "health monitors HTTP 1.1 domain name health check")
	}
	return nil
}

// patchFloat reads a number of the patch (nil when absent, null or not a
// number).
func patchFloat(p Patch, key string) *float64 {
	v, ok := p[key]
	if !ok {
		return nil
	}
	var f *float64
	if json.Unmarshal(v, &f) != nil {
		if s, ok := p.str(key); ok {
			if x, err := strconv.ParseFloat(s, 64); err == nil {
				return &x
			}
		}
		return nil
	}
	return f
}

func nonZero(f *float64) bool { return f != nil && *f != 0 }
