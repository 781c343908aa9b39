package loadbalancer

import (
	"encoding/json"
	"regexp"

	"github.com/octavia-es/octavia-es/events"
)

// poolFixed are the attributes a pool PUT cannot change.
var poolFixed = []string{"id", "project_id", "loadbalancer_id", "listener_id", "protocol"}

// decideCreatePool is PoolsController.post: load balancer, listener and
// protocol, session persistence, the listener's default pool, status.
func decideCreatePool(s State, c CreatePool) ([]events.Event, error) {
	if c.HealthMonitor != nil || len(c.Members) > 0 {
		return decidePoolGraph(s, c)
	}
	return createPool(s, c.Spec, true)
}

// createPool decides one pool; without checkStatus the load balancer's
// status is the caller's to check (see createListener).
func createPool(s State, sp events.Pool, checkStatus bool) ([]events.Event, error) {
	if err := requireLoadBalancer(s, sp.LoadBalancerID); err != nil {
		return nil, err
	}
	if err := checkNewID(s, sp.ID); err != nil {
		return nil, err
	}
	var listener *Node[events.Listener]
	if sp.ListenerID != "" {
		listener = s.Listeners[sp.ListenerID]
		if listener == nil {
			return nil, notFound(resListener, sp.ListenerID)
		}
		if listener.Spec.Protocol == protoPrometheus {
			return nil, listenerNoChildren(protoPrometheus)
		}
		if err := validateProtocol(listener.Spec.Protocol, sp.Protocol); err != nil {
			return nil, err
		}
	}
	if err := validateSessionPersistence(sp.Protocol, sp.SessionPersistence, false); err != nil {
		return nil, err
	}
	if listener != nil && strOr(listener.Spec.DefaultPoolID) != "" {
		return nil, duplicatePoolEntry()
	}
	if checkStatus {
		if err := requireMutable(s); err != nil {
			return nil, err
		}
	}
	sp.ProjectID = s.LoadBalancer.Spec.ProjectID
	sp.LoadBalancerID = s.LoadBalancerID()
	return []events.Event{events.PoolCreateRequested{Pool: sp}}, nil
}

// decideUpdatePool is PoolsController.put.
func decideUpdatePool(s State, c UpdatePool) ([]events.Event, error) {
	n := s.Pools[c.PoolID]
	if n == nil || !s.Alive() {
		return nil, notFound(resPool, c.PoolID)
	}
	p := withPersistenceType(c.Patch, n.Spec.SessionPersistence)
	if p.has("session_persistence") && !p.isNull("session_persistence") {
		var req events.SessionPersistence
		if err := json.Unmarshal(p["session_persistence"], &req); err != nil {
			return nil, patchError(p, err)
		}
		if err := validateSessionPersistence(n.Spec.Protocol, &req, true); err != nil {
			return nil, err
		}
	}
	if err := validatePoolCARefs(n.Spec, p); err != nil {
		return nil, err
	}
	sp, err := mergePatch(n.Spec, p, poolFixed...)
	if err != nil {
		return nil, err
	}
	if err := requireMutable(s); err != nil {
		return nil, err
	}
	if err := requireNotPending(resPool, c.PoolID, n.ProvisioningStatus); err != nil {
		return nil, err
	}
	return []events.Event{events.PoolUpdateRequested{Pool: sp}}, nil
}

// decideDeletePool is PoolsController.delete. Members and the health
// monitor go with the pool; listeners using it lose their default pool.
func decideDeletePool(s State, c DeletePool) ([]events.Event, error) {
	n := s.Pools[c.PoolID]
	if n == nil || !s.Alive() {
		return nil, notFound(resPool, c.PoolID)
	}
	if err := requireMutable(s); err != nil {
		return nil, err
	}
	if err := requireNotPending(resPool, c.PoolID, n.ProvisioningStatus); err != nil {
		return nil, err
	}
	return []events.Event{events.PoolDeleteRequested{LoadBalancerID: s.LoadBalancerID(), PoolID: c.PoolID}}, nil
}

// withPersistenceType: a PUT session_persistence without a type keeps the
// current type (PoolsController.put); the other attributes are replaced.
func withPersistenceType(p Patch, cur *events.SessionPersistence) Patch {
	raw, ok := p["session_persistence"]
	if !ok || cur == nil || cur.Type == "" {
		return p
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		return p
	}
	if t, ok := obj["type"]; ok && string(t) != "null" {
		return p
	}
	obj["type"], _ = json.Marshal(cur.Type)
	out := make(Patch, len(p))
	for k, v := range p {
		out[k] = v
	}
	out["session_persistence"], _ = json.Marshal(obj)
	return out
}

// badCookieName is validate.check_session_persistence's pattern.
var badCookieName = regexp.MustCompile(`[\x00-\x20\x22\x28-\x29\x2c\x2f\x3a-\x40\x5b-\x5d\x7b\x7d\x7f]+`)

// validateSessionPersistence is the pool controller's session persistence
// rules: _validate_pool_request_for_udp_sctp for UDP/SCTP pools, the
// timeout/granularity rule for the others (its message differs between
// POST and PUT in Octavia), then validate.check_session_persistence.
func validateSessionPersistence(protocol string, sp *events.SessionPersistence, put bool) error {
	if sp == nil {
		return nil
	}
	cookie := strOr(sp.CookieName)
	if isUDPOrSCTP(protocol) {
		if sp.Type == spSourceIP && cookie != "" {
			return validationFailure("session_persistence %s type for UDP and SCTP protocols only accepts: type, persistence_timeout, persistence_granularity.", spSourceIP)
		}
		if cookie != "" {
			return validationFailure("Cookie names are not supported for %s pools.", "UDP/SCTP")
		}
		if sp.Type == spHTTPCookie || sp.Type == spAppCookie {
			return validationFailure("Session persistence of type %s is not supported for %s protocol pools.", sp.Type, "UDP/SCTP")
		}
	} else if (sp.PersistenceTimeout != nil && *sp.PersistenceTimeout != 0) || strOr(sp.PersistenceGranularity) != "" {
		if put {
			return validationFailure("persistence_timeout and persistence_granularity is only for UDP protocol pools.")
		}
		return validationFailure("persistence_timeout and persistence_granularity is only for UDP and SCTP protocol pools.")
	}
	if sp.Type == "" {
		// check_session_persistence reads SP_dict['type']: KeyError.
		return validationFailure("Invalid session_persistence provided.")
	}
	if cookie != "" {
		if sp.Type != spAppCookie {
			return validationFailure(`Field "cookie_name" can only be specified with session persistence of type "APP_COOKIE".`)
		}
		if badCookieName.MatchString(cookie) {
			return validationFailure(`Supplied "cookie_name" is invalid.`)
		}
	}
	if sp.Type == spAppCookie && cookie == "" {
		return validationFailure(`Field "cookie_name" must be specified when using the "APP_COOKIE" session persistence type.`)
	}
	return nil
}

// validatePoolCARefs is the CA/CRL part of _validate_pool_PUT, which
// depends on the pool's current references.
func validatePoolCARefs(cur events.Pool, p Patch) error {
	crl, _ := p.str("crl_container_ref")
	if crl == "" && !p.has("crl_container_ref") {
		crl = strOr(cur.CRLContainerRef)
	}
	dbCA := strOr(cur.CATLSContainerRef)
	if p.has("ca_tls_container_ref") {
		if !p.truthy("ca_tls_container_ref") && crl != "" {
			if dbCA != "" {
				return validationFailure("A CA reference cannot be removed when a certificate revocation list is present.")
			}
			return validationFailure("A CA reference is required to specify a certificate revocation list.")
		}
		return nil
	}
	if dbCA == "" && crl != "" {
		return validationFailure("A CA reference is required to specify a certificate revocation list.")
	}
	return nil
}
