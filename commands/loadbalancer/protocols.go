package loadbalancer

import "slices"

// Protocol and type names (octavia_lib constants).
const (
	protoHTTP            = "HTTP"
	protoHTTPS           = "HTTPS"
	protoTCP             = "TCP"
	protoUDP             = "UDP"
	protoSCTP            = "SCTP"
	protoTerminatedHTTPS = "TERMINATED_HTTPS"
	protoPrometheus      = "PROMETHEUS"
	protoProxy           = "PROXY"
	protoProxyV2         = "PROXYV2"

	spSourceIP   = "SOURCE_IP"
	spHTTPCookie = "HTTP_COOKIE"
	spAppCookie  = "APP_COOKIE"

	hmHTTP       = "HTTP"
	hmHTTPS      = "HTTPS"
	hmTCP        = "TCP"
	hmUDPConnect = "UDP-CONNECT"
	hmSCTP       = "SCTP"

	clientAuthNone = "NONE"

	// udpConnectMinDelay is [api_settings]
	// udp_connect_min_interval_health_monitor at its default.
	udpConnectMinDelay = 3
)

// validListenerPoolProtocols is constants.VALID_LISTENER_POOL_PROTOCOL_MAP.
var validListenerPoolProtocols = map[string][]string{
	protoTCP:             {protoHTTP, protoHTTPS, protoProxy, protoProxyV2, protoTCP},
	protoHTTP:            {protoHTTP, protoProxy, protoProxyV2},
	protoHTTPS:           {protoHTTPS, protoProxy, protoProxyV2, protoTCP},
	protoTerminatedHTTPS: {protoHTTP, protoProxy, protoProxyV2},
	protoUDP:             {protoUDP},
	protoSCTP:            {protoSCTP},
	protoPrometheus:      {},
}

// l4Protocol is constants.L4_PROTOCOL_MAP: listeners whose protocols share
// an L4 protocol cannot share a port.
var l4Protocol = map[string]string{
	protoTCP:             protoTCP,
	protoHTTP:            protoTCP,
	protoHTTPS:           protoTCP,
	protoTerminatedHTTPS: protoTCP,
	protoProxy:           protoTCP,
	protoProxyV2:         protoTCP,
	protoUDP:             protoUDP,
	protoSCTP:            protoSCTP,
	protoPrometheus:      protoTCP,
}

// Header insertion (octavia_lib SUPPORTED_HTTP_HEADERS / SUPPORTED_SSL_HEADERS).
var (
	headerInsertionProtocols = []string{protoHTTP, protoTerminatedHTTPS}
	supportedHTTPHeaders     = []string{"X-Forwarded-For", "X-Forwarded-Port", "X-Forwarded-Proto"}
	supportedSSLHeaders      = []string{
		"X-SSL-Client-Verify", "X-SSL-Client-Has-Cert", "X-SSL-Client-DN", "X-SSL-Client-CN",
		"X-SSL-Issuer", "X-SSL-Client-SHA1", "X-SSL-Client-Not-Before", "X-SSL-Client-Not-After",
	}
)

// validateProtocol is BaseController._validate_protocol.
func validateProtocol(listenerProtocol, poolProtocol string) error {
	if slices.Contains(validListenerPoolProtocols[listenerProtocol], poolProtocol) {
		return nil
	}
	return validationFailure("The pool protocol '%s' is invalid while the listener protocol is '%s'.",
		poolProtocol, listenerProtocol)
}

func isUDPOrSCTP(protocol string) bool { return protocol == protoUDP || protocol == protoSCTP }
