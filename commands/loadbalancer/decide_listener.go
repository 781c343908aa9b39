package loadbalancer

import (
	"net/netip"
	"slices"

	"github.com/octavia-es/octavia-es/events"
)

// listenerFixed are the attributes a listener PUT cannot change.
var listenerFixed = []string{"id", "project_id", "loadbalancer_id", "protocol", "protocol_port"}

// decideCreateListener is ListenersController.post: load balancer, default
// pool, status, duplicate port, allowed CIDRs, in Octavia's order.
func decideCreateListener(s State, c CreateListener) ([]events.Event, error) {
	if c.DefaultPool != nil {
		return decideListenerGraph(s, c)
	}
	return createListener(s, c.Spec, true)
}

// createListener decides one listener. Without checkStatus (a listener
// created in the same append as its load balancer or default pool) the load
// balancer's status is the caller's to check.
func createListener(s State, sp events.Listener, checkStatus bool) ([]events.Event, error) {
	if err := requireLoadBalancer(s, sp.LoadBalancerID); err != nil {
		return nil, err
	}
	if err := checkNewID(s, sp.ID); err != nil {
		return nil, err
	}
	if pid := strOr(sp.DefaultPoolID); pid != "" {
		if err := checkDefaultPool(s, sp.Protocol, pid); err != nil {
			return nil, err
		}
	} else {
		sp.DefaultPoolID = nil
	}
	if checkStatus {
		if err := requireMutable(s); err != nil {
			return nil, err
		}
	}
	if err := checkListenerPort(s, sp); err != nil {
		return nil, err
	}
	if err := checkCIDRsMatchVip(s, sp.AllowedCIDRs); err != nil {
		return nil, err
	}
	sp.ProjectID = s.LoadBalancer.Spec.ProjectID
	sp.LoadBalancerID = s.LoadBalancerID()
	return []events.Event{events.ListenerCreateRequested{Listener: sp}}, nil
}

// decideUpdateListener is ListenersController.put.
func decideUpdateListener(s State, c UpdateListener) ([]events.Event, error) {
	n := s.Listeners[c.ListenerID]
	if n == nil || !s.Alive() {
		return nil, notFound(resListener, c.ListenerID)
	}
	if err := validateListenerPUT(s, n.Spec, c.Patch); err != nil {
		return nil, err
	}
	sp, err := mergePatch(n.Spec, c.Patch, listenerFixed...)
	if err != nil {
		return nil, err
	}
	if pid := strOr(sp.DefaultPoolID); pid == "" {
		sp.DefaultPoolID = nil
	} else if c.Patch.has("default_pool_id") {
		if err := checkDefaultPool(s, sp.Protocol, pid); err != nil {
			return nil, err
		}
	}
	if err := requireMutable(s); err != nil {
		return nil, err
	}
	if err := requireNotPending(resListener, c.ListenerID, n.ProvisioningStatus); err != nil {
		return nil, err
	}
	if err := checkListenerPort(s, sp); err != nil {
		return nil, err
	}
	return []events.Event{events.ListenerUpdateRequested{Listener: sp}}, nil
}

// decideDeleteListener is ListenersController.delete. The listener's
// default pool stays, unlinked.
func decideDeleteListener(s State, c DeleteListener) ([]events.Event, error) {
	n := s.Listeners[c.ListenerID]
	if n == nil || !s.Alive() {
		return nil, notFound(resListener, c.ListenerID)
	}
	if err := requireMutable(s); err != nil {
		return nil, err
	}
	if err := requireNotPending(resListener, c.ListenerID, n.ProvisioningStatus); err != nil {
		return nil, err
	}
	return []events.Event{events.ListenerDeleteRequested{
		LoadBalancerID: s.LoadBalancerID(), ListenerID: c.ListenerID,
	}}, nil
}

// checkDefaultPool is ListenersController._validate_pool: the pool is one
// of this load balancer's and speaks a protocol the listener can use.
func checkDefaultPool(s State, listenerProtocol, poolID string) error {
	if listenerProtocol == protoPrometheus {
		return listenerNoChildren(protoPrometheus)
	}
	p := s.Pools[poolID]
	if p == nil {
		return notFound(resPool, poolID)
	}
	return validateProtocol(listenerProtocol, p.Spec.Protocol)
}

// checkListenerPort: no other listener of the load balancer uses the port
// with a protocol of the same L4 protocol (UDP and TCP may share a port).
func checkListenerPort(s State, sp events.Listener) error {
	l4 := l4Protocol[sp.Protocol]
	for _, id := range sortedKeys(s.Listeners) {
		other := s.Listeners[id]
		if id == sp.ID || other.Spec.ProtocolPort != sp.ProtocolPort {
			continue
		}
		if l4Protocol[other.Spec.Protocol] == l4 {
			return duplicateListenerEntry(other.Spec.Protocol, sp.ProtocolPort)
		}
	}
	return nil
}

// checkCIDRsMatchVip is _validate_cidr_compatible_with_vip.
func checkCIDRsMatchVip(s State, cidrs []string) error {
	vip, err := netip.ParseAddr(strOr(s.LoadBalancer.Spec.VipAddress))
	if err != nil {
		return nil // no VIP yet: nothing to compare with
	}
	for _, c := range cidrs {
		pfx, err := netip.ParsePrefix(c)
		if err != nil {
			a, aerr := netip.ParseAddr(c)
			if aerr != nil {
				continue // malformed CIDRs are the HTTP layer's 400
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		if pfx.Addr().Unmap().Is6() != vip.Unmap().Is6() {
			return validationFailure("CIDR %s IP version incompatible with VIP %s IP version.",
				c, strOr(s.LoadBalancer.Spec.VipAddress))
		}
	}
	return nil
}

// validateListenerPUT is the part of _validate_listener_PUT that depends on
// the current listener (its protocol, its CA and CRL references, the VIP).
func validateListenerPUT(s State, cur events.Listener, p Patch) error {
	proto := cur.Protocol
	// Octavia's to_dict keys: tls_certificate_id and sni_containers.
	hasTLSRefs := p.truthy("default_tls_container_ref") || p.truthy("sni_container_refs")
	canOffload := proto == protoTerminatedHTTPS || (proto == protoPrometheus && hasTLSRefs)

	if isUDPOrSCTP(proto) && (hasTLSRefs || p.truthy("insert_headers")) {
		return validationFailure("%s protocol listener does not support TLS or header insertion.", proto)
	}
	if !canOffload && hasTLSRefs {
		return validationFailure("Certificate container references are not allowed on %s protocol listeners.", proto)
	}
	if p.has("client_authentication") {
		auth, ok := p.str("client_authentication")
		if !ok {
			auth = "None" // Python's None formats so
		}
		if auth != clientAuthNone && strOr(cur.ClientCATLSContainerRef) == "" && !p.truthy("client_ca_tls_container_ref") {
			return validationFailure("Client authentication setting %s requires a client CA container reference.", auth)
		}
	}
	if p.truthy("insert_headers") {
		if err := validateInsertHeaders(p.objectKeys("insert_headers"), proto); err != nil {
			return err
		}
	}
	caRef, _ := p.str("client_ca_tls_container_ref")
	if caRef == "" {
		caRef = strOr(cur.ClientCATLSContainerRef)
	}
	crlRef, _ := p.str("client_crl_container_ref")
	if crlRef == "" {
		crlRef = strOr(cur.ClientCRLContainerRef)
	}
	if crlRef != "" && caRef == "" {
		return validationFailure("A client authentication CA reference is required to specify a client authentication revocation list.")
	}
	if p.truthy("allowed_cidrs") {
		var cidrs []string
		if m, err := mergePatch(events.Listener{}, Patch{"allowed_cidrs": p["allowed_cidrs"]}); err == nil {
			cidrs = m.AllowedCIDRs
		}
		if err := checkCIDRsMatchVip(s, cidrs); err != nil {
			return err
		}
	}
	return nil
}

// validateInsertHeaders is ListenersController._validate_insert_headers
// (PUT form: the headers formatted as a Python list).
func validateInsertHeaders(headers []string, proto string) error {
	if !slices.Contains(headerInsertionProtocols, proto) {
		return invalidOption("insert-headers", "a "+proto+" protocol listener.")
	}
	for _, h := range headers {
		if !slices.Contains(supportedHTTPHeaders, h) && !slices.Contains(supportedSSLHeaders, h) {
			return invalidOption(pyList(headers), "insert_headers")
		}
	}
	if proto != protoTerminatedHTTPS {
		var ssl []string
		for _, h := range headers {
			if slices.Contains(supportedSSLHeaders, h) {
				ssl = append(ssl, h)
			}
		}
		if len(ssl) > 0 {
			return invalidOption(pyList(ssl), proto+" protocol listener.")
		}
	}
	return nil
}

func sortedKeys[T any](m map[string]*Node[T]) []string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if v != nil {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
