package haproxy

import "slices"

// Octavia's protocol, algorithm, persistence and monitor names
// (octavia_lib constants).
const (
	protoHTTP            = "HTTP"
	protoHTTPS           = "HTTPS"
	protoTCP             = "TCP"
	protoTerminatedHTTPS = "TERMINATED_HTTPS"
	protoPrometheus      = "PROMETHEUS"
	protoProxy           = "PROXY"
	protoProxyV2         = "PROXYV2"

	persistSourceIP   = "SOURCE_IP"
	persistHTTPCookie = "HTTP_COOKIE"
	persistAppCookie  = "APP_COOKIE"

	monitorHTTP     = "HTTP"
	monitorHTTPS    = "HTTPS"
	monitorTCP      = "TCP"
	monitorPing     = "PING"
	monitorTLSHello = "TLS-HELLO"
)

// listenerModes is Octavia's PROTOCOL_MAP for the listener protocols served
// here: HTTPS is passthrough (mode tcp).
var listenerModes = map[string]string{
	protoHTTP:            "http",
	protoHTTPS:           "tcp",
	protoTCP:             "tcp",
	protoTerminatedHTTPS: "http",
	protoPrometheus:      "http",
}

// poolModes: PROXY pools take their listener's mode (see backendMode).
var poolModes = map[string]string{
	protoHTTP:    "http",
	protoHTTPS:   "tcp",
	protoTCP:     "tcp",
	protoProxy:   "",
	protoProxyV2: "",
}

// balance is Octavia's BALANCE_MAP.
var balance = map[string]string{
	"ROUND_ROBIN":       "roundrobin",
	"LEAST_CONNECTIONS": "leastconn",
	"SOURCE_IP":         "source",
}

// SupportedListenerProtocols are the listener protocols Render serves, for
// the provider's capabilities.
func SupportedListenerProtocols() []string { return sortedKeys(listenerModes) }

// SupportedPoolProtocols are the pool protocols Render serves.
func SupportedPoolProtocols() []string { return sortedKeys(poolModes) }

// SupportedAlgorithms are the pool lb_algorithms Render serves.
func SupportedAlgorithms() []string { return sortedKeys(balance) }

// SupportedHealthMonitorTypes are the health monitor types Render serves.
func SupportedHealthMonitorTypes() []string {
	return []string{monitorHTTP, monitorHTTPS, monitorPing, monitorTCP, monitorTLSHello}
}

// SupportedSessionPersistenceTypes are the session_persistence types
// Render serves.
func SupportedSessionPersistenceTypes() []string {
	return []string{persistAppCookie, persistHTTPCookie, persistSourceIP}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
