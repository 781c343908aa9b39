package v2

import "regexp"

// Octavia's request types (api/v2/types/*.py), attributes in declaration
// order. wsme adds tenant_id (an alias of project_id) last to every type
// with a project_id.

const (
	minPort, maxPort = 1, 65535
	minTimeout       = 0
	maxTimeout       = 24 * 24 * 60 * 60 * 1000
	minWeight        = 0
	maxWeight        = 256
	minHMRetries     = 1
	maxHMRetries     = 10
)

var (
	listenerProtocols = []string{"TCP", "HTTPS", "HTTP", "TERMINATED_HTTPS", "UDP", "SCTP", "PROMETHEUS"}
	poolProtocols     = []string{"TCP", "HTTP", "HTTPS", "PROXY", "PROXYV2", "UDP", "SCTP"}
	lbAlgorithms      = []string{"LEAST_CONNECTIONS", "ROUND_ROBIN", "SOURCE_IP", "SOURCE_IP_PORT"}
	spTypes           = []string{"SOURCE_IP", "HTTP_COOKIE", "APP_COOKIE"}
	clientAuthModes   = []string{"NONE", "OPTIONAL", "MANDATORY"}
	hmTypes           = []string{"HTTP", "HTTPS", "PING", "TCP", "TLS-HELLO", "UDP-CONNECT", "SCTP"}
	hmHTTPMethods     = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "OPTIONS", "CONNECT", "PATCH"}
	supportedALPN     = []string{"h2", "http/1.1", "http/1.0"}
)

func str255() attrType { return strType{max: 255} }

func intRange(lo, hi int64) attrType { return intType{min: bound(lo), max: bound(hi)} }

func strList(max int) attrType { return listType{item: strType{max: max}} }

func projectAttrs() []attr {
	return []attr{{name: "project_id", typ: strType{max: 36}}}
}

func tenantAlias() attr { return attr{name: "tenant_id", typ: strType{max: 36}, alias: "project_id"} }

// --- load balancers -------------------------------------------------------

var additionalVipType = &complexType{attrs: []attr{
	{name: "subnet_id", typ: uuidType{}, mandatory: true},
	{name: "ip_address", typ: ipType{}},
}}

var loadBalancerPOST = &complexType{attrs: []attr{
	{name: "name", typ: str255()},
	{name: "description", typ: str255()},
	{name: "admin_state_up", typ: boolType{}},
	{name: "vip_address", typ: ipType{}},
	{name: "vip_port_id", typ: uuidType{}},
	{name: "vip_subnet_id", typ: uuidType{}},
	{name: "vip_network_id", typ: uuidType{}},
	{name: "vip_qos_policy_id", typ: uuidType{}},
	{name: "additional_vips", typ: listType{item: additionalVipType}},
	{name: "project_id", typ: strType{max: 36}},
	{name: "listeners", typ: listType{item: listenerSingleCreate}},
	{name: "pools", typ: listType{item: poolSingleCreate}},
	{name: "provider", typ: strType{max: 64}},
	{name: "tags", typ: strList(255)},
	{name: "flavor_id", typ: uuidType{}},
	{name: "availability_zone", typ: str255()},
	tenantAlias(),
}}

var loadBalancerPUT = &complexType{attrs: []attr{
	{name: "name", typ: str255()},
	{name: "description", typ: str255()},
	{name: "vip_qos_policy_id", typ: uuidType{}},
	{name: "admin_state_up", typ: boolType{}},
	{name: "tags", typ: strList(255)},
}}

// --- listeners -------------------------------------------------------------

func timeoutType() attrType { return intRange(minTimeout, maxTimeout) }

var listenerPOST = &complexType{attrs: []attr{
	{name: "name", typ: str255()},
	{name: "description", typ: str255()},
	{name: "admin_state_up", typ: boolType{}},
	{name: "protocol", typ: enumType{values: listenerProtocols}, mandatory: true},
	{name: "protocol_port", typ: intRange(minPort, maxPort), mandatory: true},
	{name: "connection_limit", typ: intType{min: bound(-1)}},
	{name: "default_tls_container_ref", typ: str255()},
	{name: "sni_container_refs", typ: strList(255)},
	{name: "project_id", typ: strType{max: 36}},
	{name: "default_pool_id", typ: uuidType{}},
	{name: "default_pool", typ: poolSingleCreate},
	{name: "l7policies", typ: rawType{list: true}},
	{name: "insert_headers", typ: dictType{value: str255()}},
	{name: "loadbalancer_id", typ: uuidType{}, mandatory: true},
	{name: "timeout_client_data", typ: timeoutType()},
	{name: "timeout_member_connect", typ: timeoutType()},
	{name: "timeout_member_data", typ: timeoutType()},
	{name: "timeout_tcp_inspect", typ: timeoutType()},
	{name: "tags", typ: strList(255)},
	{name: "client_ca_tls_container_ref", typ: str255()},
	{name: "client_authentication", typ: enumType{values: clientAuthModes}},
	{name: "client_crl_container_ref", typ: str255()},
	{name: "allowed_cidrs", typ: listType{item: cidrType{}}},
	{name: "tls_ciphers", typ: strType{max: 2048}},
	{name: "tls_versions", typ: strList(32)},
	{name: "alpn_protocols", typ: listType{item: alpnType{}}},
	tenantAlias(),
}}

// listenerSingleCreate is ListenerSingleCreate: a listener inside a load
// balancer POST (no loadbalancer_id or project_id).
var listenerSingleCreate = &complexType{attrs: []attr{
	{name: "name", typ: str255()},
	{name: "description", typ: str255()},
	{name: "admin_state_up", typ: boolType{}},
	{name: "protocol", typ: enumType{values: listenerProtocols}, mandatory: true},
	{name: "protocol_port", typ: intRange(minPort, maxPort), mandatory: true},
	{name: "connection_limit", typ: intType{min: bound(-1)}},
	{name: "default_tls_container_ref", typ: str255()},
	{name: "sni_container_refs", typ: strList(255)},
	{name: "default_pool_id", typ: uuidType{}},
	{name: "default_pool", typ: poolSingleCreate},
	{name: "l7policies", typ: rawType{list: true}},
	{name: "insert_headers", typ: dictType{value: str255()}},
	{name: "timeout_client_data", typ: timeoutType()},
	{name: "timeout_member_connect", typ: timeoutType()},
	{name: "timeout_member_data", typ: timeoutType()},
	{name: "timeout_tcp_inspect", typ: timeoutType()},
	{name: "tags", typ: strList(255)},
	{name: "client_ca_tls_container_ref", typ: str255()},
	{name: "client_authentication", typ: enumType{values: clientAuthModes}},
	{name: "client_crl_container_ref", typ: str255()},
	{name: "allowed_cidrs", typ: listType{item: cidrType{}}},
	{name: "tls_ciphers", typ: strType{max: 2048}},
	{name: "tls_versions", typ: strList(32)},
	{name: "alpn_protocols", typ: listType{item: alpnType{}}},
}}

var listenerPUT = &complexType{attrs: []attr{
	{name: "name", typ: str255()},
	{name: "description", typ: str255()},
	{name: "admin_state_up", typ: boolType{}},
	{name: "connection_limit", typ: intType{min: bound(-1)}},
	{name: "default_tls_container_ref", typ: str255()},
	{name: "sni_container_refs", typ: strList(255)},
	{name: "default_pool_id", typ: uuidType{}},
	{name: "insert_headers", typ: dictType{value: str255()}},
	{name: "timeout_client_data", typ: timeoutType()},
	{name: "timeout_member_connect", typ: timeoutType()},
	{name: "timeout_member_data", typ: timeoutType()},
	{name: "timeout_tcp_inspect", typ: timeoutType()},
	{name: "tags", typ: strList(255)},
	{name: "client_ca_tls_container_ref", typ: str255()},
	{name: "client_authentication", typ: enumType{values: clientAuthModes}},
	{name: "client_crl_container_ref", typ: str255()},
	{name: "allowed_cidrs", typ: listType{item: cidrType{}}},
	{name: "tls_ciphers", typ: strType{max: 2048}},
	{name: "tls_versions", typ: strList(32)},
	{name: "alpn_protocols", typ: listType{item: alpnType{}}},
}}

// --- pools -------------------------------------------------------------------

// cookieName is Octavia's pattern for session persistence cookie names.
var cookieName = strType{max: 255, pattern: regexp.MustCompile(`^[^\s,;\\]+$`), pyRegex: `^[^\s,;\\]+$`}

func sessionPersistenceType(typeMandatory bool) *complexType {
	return &complexType{attrs: []attr{
		{name: "type", typ: enumType{values: spTypes}, mandatory: typeMandatory},
		{name: "cookie_name", typ: cookieName},
		{name: "persistence_timeout", typ: intType{}},
		{name: "persistence_granularity", typ: ipType{}},
	}}
}

var poolPOST = &complexType{attrs: []attr{
	{name: "name", typ: str255()},
	{name: "description", typ: str255()},
	{name: "admin_state_up", typ: boolType{}},
	{name: "listener_id", typ: uuidType{}},
	{name: "loadbalancer_id", typ: uuidType{}},
	{name: "protocol", typ: enumType{values: poolProtocols}, mandatory: true},
	{name: "lb_algorithm", typ: enumType{values: lbAlgorithms}, mandatory: true},
	{name: "session_persistence", typ: sessionPersistenceType(true)},
	{name: "project_id", typ: strType{max: 36}},
	{name: "healthmonitor", typ: healthMonitorSingleCreate},
	{name: "members", typ: listType{item: memberSingleCreate}},
	{name: "tags", typ: strList(255)},
	{name: "tls_container_ref", typ: str255()},
	{name: "ca_tls_container_ref", typ: str255()},
	{name: "crl_container_ref", typ: str255()},
	{name: "tls_enabled", typ: boolType{}},
	{name: "tls_ciphers", typ: strType{max: 2048}},
	{name: "tls_versions", typ: strList(32)},
	{name: "alpn_protocols", typ: listType{item: alpnType{}}},
	tenantAlias(),
}}

// poolSingleCreate is PoolSingleCreate: a pool inside a load balancer POST
// or a listener's default_pool. protocol and lb_algorithm are not
// mandatory here: a load balancer POST may name a pool defined elsewhere.
var poolSingleCreate = &complexType{attrs: []attr{
	{name: "name", typ: str255()},
	{name: "description", typ: str255()},
	{name: "admin_state_up", typ: boolType{}},
	{name: "protocol", typ: enumType{values: poolProtocols}},
	{name: "lb_algorithm", typ: enumType{values: lbAlgorithms}},
	{name: "session_persistence", typ: sessionPersistenceType(true)},
	{name: "healthmonitor", typ: healthMonitorSingleCreate},
	{name: "members", typ: listType{item: memberSingleCreate}},
	{name: "tags", typ: strList(255)},
	{name: "tls_container_ref", typ: str255()},
	{name: "ca_tls_container_ref", typ: str255()},
	{name: "crl_container_ref", typ: str255()},
	{name: "tls_enabled", typ: boolType{}},
	{name: "tls_ciphers", typ: strType{max: 2048}},
	{name: "tls_versions", typ: strList(32)},
	{name: "alpn_protocols", typ: listType{item: alpnType{}}},
}}

var poolPUT = &complexType{attrs: []attr{
	{name: "name", typ: str255()},
	{name: "description", typ: str255()},
	{name: "admin_state_up", typ: boolType{}},
	{name: "lb_algorithm", typ: enumType{values: lbAlgorithms}},
	{name: "session_persistence", typ: sessionPersistenceType(false)},
	{name: "tags", typ: strList(255)},
	{name: "tls_container_ref", typ: str255()},
	{name: "ca_tls_container_ref", typ: str255()},
	{name: "crl_container_ref", typ: str255()},
	{name: "tls_enabled", typ: boolType{}},
	{name: "tls_ciphers", typ: strType{max: 2048}},
	{name: "tls_versions", typ: strList(32)},
	{name: "alpn_protocols", typ: listType{item: alpnType{}}},
}}

// --- members -----------------------------------------------------------------

var memberPOST = &complexType{attrs: []attr{
	{name: "name", typ: str255()},
	{name: "admin_state_up", typ: boolType{}},
	{name: "address", typ: ipType{}, mandatory: true},
	{name: "protocol_port", typ: intRange(minPort, maxPort), mandatory: true},
	{name: "weight", typ: intRange(minWeight, maxWeight)},
	{name: "backup", typ: boolType{}},
	{name: "subnet_id", typ: uuidType{}},
	{name: "project_id", typ: strType{max: 36}},
	{name: "monitor_port", typ: intRange(minPort, maxPort)},
	{name: "monitor_address", typ: ipType{}},
	{name: "tags", typ: strList(255)},
	tenantAlias(),
}}

// memberSingleCreate is MemberSingleCreate: a member inside a pool object.
var memberSingleCreate = &complexType{attrs: []attr{
	{name: "name", typ: str255()},
	{name: "admin_state_up", typ: boolType{}},
	{name: "address", typ: ipType{}, mandatory: true},
	{name: "protocol_port", typ: intRange(minPort, maxPort), mandatory: true},
	{name: "weight", typ: intRange(minWeight, maxWeight)},
	{name: "backup", typ: boolType{}},
	{name: "subnet_id", typ: uuidType{}},
	{name: "monitor_port", typ: intRange(minPort, maxPort)},
	{name: "monitor_address", typ: ipType{}},
	{name: "tags", typ: strList(255)},
}}

var memberPUT = &complexType{attrs: []attr{
	{name: "name", typ: str255()},
	{name: "admin_state_up", typ: boolType{}},
	{name: "weight", typ: intRange(minWeight, maxWeight)},
	{name: "backup", typ: boolType{}},
	{name: "monitor_port", typ: intRange(minPort, maxPort)},
	{name: "monitor_address", typ: ipType{}},
	{name: "tags", typ: strList(255)},
}}

var membersPUT = &complexType{attrs: []attr{
	{name: "members", typ: listType{item: memberPOST}},
}}

// --- health monitors ---------------------------------------------------------

const (
	expectedCodesRegex = `^(\d{3}(\s*,\s*\d{3})*)$|^(\d{3}-\d{3})$`
	domainNameRegex    = `^(?=.{1,253}\.?$)(?:(?!-|[^.]+_)[A-Za-z0-9-_]{1,63}(?<!-)(?:\.|$))+$`
)

var (
	expectedCodes = strType{pattern: regexp.MustCompile(`^(?:(\d{3}(\s*,\s*\d{3})*)|(\d{3}-\d{3}))$`), pyRegex: expectedCodesRegex}
	domainName    = strType{min: 1, max: 255, check: validDomainName, pyRegex: domainNameRegex}
	httpVersion   = floatEnumType{values: []float64{1.0, 1.1}}
)

var healthMonitorPOST = &complexType{attrs: []attr{
	{name: "name", typ: str255()},
	{name: "type", typ: enumType{values: hmTypes}, mandatory: true},
	{name: "delay", typ: intType{min: bound(0)}, mandatory: true},
	{name: "timeout", typ: intType{min: bound(0)}, mandatory: true},
	{name: "max_retries_down", typ: intRange(minHMRetries, maxHMRetries)},
	{name: "max_retries", typ: intRange(minHMRetries, maxHMRetries), mandatory: true},
	{name: "http_method", typ: enumType{values: hmHTTPMethods}},
	{name: "url_path", typ: urlPathType{}},
	{name: "expected_codes", typ: expectedCodes},
	{name: "admin_state_up", typ: boolType{}},
	{name: "project_id", typ: strType{max: 36}},
	{name: "pool_id", typ: uuidType{}, mandatory: true},
	{name: "tags", typ: strList(255)},
	{name: "http_version", typ: httpVersion},
	{name: "domain_name", typ: domainName},
	tenantAlias(),
}}

// healthMonitorSingleCreate is HealthMonitorSingleCreate: a pool's
// healthmonitor object (no pool_id).
var healthMonitorSingleCreate = &complexType{attrs: []attr{
	{name: "name", typ: str255()},
	{name: "type", typ: enumType{values: hmTypes}, mandatory: true},
	{name: "delay", typ: intType{min: bound(0)}, mandatory: true},
	{name: "timeout", typ: intType{min: bound(0)}, mandatory: true},
	{name: "max_retries_down", typ: intRange(minHMRetries, maxHMRetries)},
	{name: "max_retries", typ: intRange(minHMRetries, maxHMRetries), mandatory: true},
	{name: "http_method", typ: enumType{values: hmHTTPMethods}},
	{name: "url_path", typ: urlPathType{}},
	{name: "expected_codes", typ: expectedCodes},
	{name: "admin_state_up", typ: boolType{}},
	{name: "tags", typ: strList(255)},
	{name: "http_version", typ: httpVersion},
	{name: "domain_name", typ: domainName},
}}

var healthMonitorPUT = &complexType{attrs: []attr{
	{name: "name", typ: str255()},
	{name: "delay", typ: intType{min: bound(0)}},
	{name: "timeout", typ: intType{min: bound(0)}},
	{name: "max_retries_down", typ: intRange(minHMRetries, maxHMRetries)},
	{name: "max_retries", typ: intRange(minHMRetries, maxHMRetries)},
	{name: "http_method", typ: enumType{values: hmHTTPMethods}},
	{name: "url_path", typ: urlPathType{}},
	{name: "expected_codes", typ: expectedCodes},
	{name: "admin_state_up", typ: boolType{}},
	{name: "tags", typ: strList(255)},
	{name: "http_version", typ: httpVersion},
	{name: "domain_name", typ: domainName},
}}

// validDomainName is Octavia's DOMAIN_NAME_REGEX, which Go's regexp cannot
// express (lookarounds): at most 253 characters besides one trailing dot,
// labels of 1-63 letters, digits, '-' and '_', not starting or ending with
// '-', '_' only as a label's first character.
func validDomainName(s string) bool {
	body := s
	if len(body) > 0 && body[len(body)-1] == '.' {
		body = body[:len(body)-1]
	}
	if len(body) < 1 || len(body) > 253 {
		return false
	}
	for _, label := range splitLabels(body) {
		if len(label) < 1 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
			if !ok || (c == '_' && i > 0) {
				return false
			}
		}
	}
	return true
}

func splitLabels(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// Root types: the body object wrapping the resource.
func rootType(key string, inner *complexType) *complexType {
	return &complexType{attrs: []attr{{name: key, typ: inner}}}
}
