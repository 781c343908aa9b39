package v2

import (
	"net/netip"
	"strings"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
	"github.com/octavia-es/octavia-es/http/fault"
)

// Checks Octavia's controllers make beyond the types (common/validate.py
// and the controllers' _validate_* helpers). Checks against other objects
// of the graph use the state loaded for the write; conflicts (duplicates,
// PENDING_* locks) are the aggregate's to refuse.

// Octavia's defaults ([api_settings], [haproxy_amphora], constants.py).
const (
	defaultCiphers = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:" +
		"DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:" +
		"ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-SHA256:DHE-RSA-AES128-SHA256:" +
		"ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-SHA256"
	defaultTimeoutClientData    = 50000
	defaultTimeoutMemberConnect = 5000
	defaultTimeoutMemberData    = 50000
	defaultTimeoutTCPInspect    = 0
	defaultConnectionLimit      = -1
	defaultWeight               = 1
	defaultMaxRetriesDown       = 3
	defaultHTTPMethod           = "GET"
	defaultURLPath              = "/"
	defaultExpectedCodes        = "200"
	udpConnectMinDelay          = 3
)

var (
	defaultTLSVersions = []string{"TLSv1.2", "TLSv1.3"}
	defaultALPN        = []string{"h2", "http/1.1", "http/1.0"}
	allTLSVersions     = []string{"SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}
	httpHeaders        = []string{"X-Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Proto", "X-Forwarded-IP", "X-Client-IP", "X-Real-IP"}
	sslHeaders         = []string{"X-SSL-Client-Verify", "X-SSL-Client-Has-Cert", "X-SSL-Client-DN", "X-SSL-Client-CN",
		"X-SSL-Issuer", "X-SSL-Client-SHA1", "X-SSL-Client-Not-Before", "X-SSL-Client-Not-After"}
	reservedIPs = []string{"169.254.169.254"}
	// validListenerPoolProtocols is constants.VALID_LISTENER_POOL_PROTOCOL_MAP.
	validListenerPoolProtocols = map[string][]string{
		"TCP":              {"HTTP", "HTTPS", "PROXY", "PROXYV2", "TCP"},
		"HTTP":             {"HTTP", "PROXY", "PROXYV2"},
		"HTTPS":            {"HTTPS", "PROXY", "PROXYV2", "TCP"},
		"TERMINATED_HTTPS": {"HTTP", "PROXY", "PROXYV2"},
		"UDP":              {"UDP"},
		"SCTP":             {"SCTP"},
		"PROMETHEUS":       {},
	}
)

func isUDPOrSCTP(protocol string) bool { return protocol == "UDP" || protocol == "SCTP" }

// invalidOption is Octavia's InvalidOption (400).
func invalidOption(value, option string) *fault.Error {
	return fault.BadRequest("%s is not a valid option for %s", value, option)
}

func listenerNoChildren(protocol string) *fault.Error {
	return fault.BadRequest("Protocol %s listeners cannot have child objects.", protocol)
}

// validateInsertHeaders is ListenersController._validate_insert_headers.
// Octavia quotes the refused names as Python prints them: dict_keys([...])
// on create, a list on update.
func validateInsertHeaders(names []string, protocol string, create bool) *fault.Error {
	if protocol != "HTTP" && protocol != "TERMINATED_HTTPS" {
		return invalidOption("insert-headers", "a "+protocol+" protocol listener.")
	}
	for _, n := range names {
		if !contains(httpHeaders, n) && !contains(sslHeaders, n) {
			v := pyRepr(names)
			if create {
				v = "dict_keys(" + v + ")"
			}
			return invalidOption(v, "insert_headers")
		}
	}
	if protocol != "TERMINATED_HTTPS" {
		var ssl []string
		for _, n := range names {
			if contains(sslHeaders, n) {
				ssl = append(ssl, n)
			}
		}
		if len(ssl) > 0 {
			return invalidOption(pyRepr(ssl), protocol+" protocol listener.")
		}
	}
	return nil
}

// checkTLSVersions is validate.check_tls_version_list (no minimum version
// is configured here).
func checkTLSVersions(versions []string, set bool) *fault.Error {
	if !set {
		return nil
	}
	if len(versions) == 0 {
		return fault.Validation("Empty TLS version list. Either specify at least one TLS version or " +
			"remove this parameter to use the default.")
	}
	var bad []string
	for _, v := range versions {
		if !contains(allTLSVersions, v) {
			bad = append(bad, v)
		}
	}
	if len(bad) > 0 {
		return fault.Validation("Invalid TLS versions: %s", strings.Join(bad, ", "))
	}
	return nil
}

// checkALPN is validate.check_alpn_protocols.
func checkALPN(protocols []string, set bool) *fault.Error {
	if set && len(protocols) == 0 {
		return fault.Validation("Empty ALPN protocol list. Either specify at least one ALPN protocol or " +
			"remove this parameter to use the default.")
	}
	return nil
}

// cidrsMatchVIP is _validate_cidr_compatible_with_vip.
func cidrsMatchVIP(vip *string, cidrs []string) *fault.Error {
	if vip == nil {
		return nil
	}
	ip, err := netip.ParseAddr(*vip)
	if err != nil {
		return nil
	}
	for _, c := range cidrs {
		p, err := netip.ParsePrefix(c)
		if err == nil && p.Addr().Is6() != ip.Is6() {
			return fault.Validation("CIDR %s IP version incompatible with VIP %s IP version.", c, *vip)
		}
	}
	return nil
}

// checkPoolProtocol is BaseController._validate_protocol.
func checkPoolProtocol(listenerProtocol, poolProtocol string) *fault.Error {
	if contains(validListenerPoolProtocols[listenerProtocol], poolProtocol) {
		return nil
	}
	return fault.Validation("The pool protocol '%s' is invalid while the listener protocol is '%s'.",
		poolProtocol, listenerProtocol)
}

// defaultPool is ListenersController._validate_pool for default_pool_id:
// the pool must belong to the load balancer and suit the protocol.
func defaultPool(s loadbalancer.State, poolID, listenerProtocol string) *fault.Error {
	if listenerProtocol == "PROMETHEUS" {
		return listenerNoChildren(listenerProtocol)
	}
	p, ok := s.Pools[poolID]
	if !ok || p == nil || p.ProvisioningStatus == loadbalancer.Deleted {
		return fault.NotFound(resPool, poolID)
	}
	return checkPoolProtocol(listenerProtocol, p.Spec.Protocol)
}

// checkSessionPersistence is validate.check_session_persistence on the
// session_persistence object as sent (cookie_name defaulting to null).
func checkSessionPersistence(sp *record) *fault.Error {
	if !sp.has("type") {
		// Octavia reads the missing key and reports the KeyError this way.
		return fault.Validation("Invalid session_persistence provided.")
	}
	typ, cookie := sp.strOr("type", ""), sp.strOr("cookie_name", "")
	if cookie != "" {
		if typ != "APP_COOKIE" {
			return fault.Validation(`Field "cookie_name" can only be specified with session persistence of type "APP_COOKIE".`)
		}
		if strings.IndexFunc(cookie, badCookieRune) >= 0 {
			return fault.Validation(`Supplied "cookie_name" is invalid.`)
		}
	}
	if typ == "APP_COOKIE" && cookie == "" {
		return fault.Validation(`Field "cookie_name" must be specified when using the "APP_COOKIE" session persistence type.`)
	}
	return nil
}

// badCookieRune is the character class Octavia refuses in cookie names:
// controls, space, '"', '(', ')', ',', '/', ':'..'@', '['..']', '{', '}', DEL.
func badCookieRune(r rune) bool {
	return r <= 0x20 || r == '"' || r == '(' || r == ')' || r == ',' || r == '/' ||
		(r >= ':' && r <= '@') || (r >= '[' && r <= ']') || r == '{' || r == '}' || r == 0x7f
}

// spForProtocol is the pool controllers' protocol rules for
// session_persistence (UDP/SCTP pools take SOURCE_IP with a timeout and
// granularity only; others take no timeout or granularity).
func spForProtocol(sp *record, protocol string, create bool) *fault.Error {
	if sp == nil {
		return nil
	}
	if isUDPOrSCTP(protocol) {
		typ := sp.strOr("type", "")
		if typ == "SOURCE_IP" && truthy(sp.str("cookie_name")) {
			return fault.Validation("session_persistence SOURCE_IP type for UDP and SCTP protocols only accepts: " +
				"type, persistence_timeout, persistence_granularity.")
		}
		if truthy(sp.str("cookie_name")) {
			return fault.Validation("Cookie names are not supported for UDP/SCTP pools.")
		}
		if typ == "HTTP_COOKIE" || typ == "APP_COOKIE" {
			return fault.Validation("Session persistence of type %s is not supported for UDP/SCTP protocol pools.", typ)
		}
		return nil
	}
	if sp.integer("persistence_timeout") != nil && *sp.integer("persistence_timeout") != 0 ||
		sp.strOr("persistence_granularity", "") != "" {
		if create {
			return fault.Validation("persistence_timeout and persistence_granularity is only for UDP and SCTP protocol pools.")
		}
		return fault.Validation("persistence_timeout and persistence_granularity is only for UDP protocol pools.")
	}
	return nil
}

// sessionPersistence is the spec of a validated session_persistence.
func sessionPersistence(sp *record) *events.SessionPersistence {
	if sp == nil {
		return nil
	}
	return &events.SessionPersistence{
		Type:                   sp.strOr("type", ""),
		CookieName:             sp.str("cookie_name"),
		PersistenceTimeout:     sp.integer("persistence_timeout"),
		PersistenceGranularity: sp.str("persistence_granularity"),
	}
}

// memberAddressAllowed is validate.ip_not_reserved.
func memberAddressAllowed(address string) *fault.Error {
	ip, err := netip.ParseAddr(address)
	if err != nil {
		return nil
	}
	exploded := ip.StringExpanded()
	if ip.Is6() {
		exploded = strings.ToUpper(exploded)
	}
	for _, r := range reservedIPs {
		if exploded == r {
			return invalidOption(exploded, "member address")
		}
	}
	return nil
}

func truthy(s *string) bool { return s != nil && *s != "" }
