package haproxy

import "errors"

// Errors Render wraps (test with errors.Is); the message names the object.
var (
	// ErrUnsupportedProtocol: a listener or pool protocol this HAProxy
	// provider does not serve (UDP, SCTP, unknown). The API refuses them
	// through the provider's capabilities; the renderer refuses them too
	// rather than dropping them silently.
	ErrUnsupportedProtocol = errors.New("protocol not supported by the haproxy amphora")

	// ErrUnsupportedOption: an algorithm, session persistence type or health
	// monitor type HAProxy cannot provide here (e.g. SOURCE_IP_PORT,
	// UDP-CONNECT).
	ErrUnsupportedOption = errors.New("option not supported by the haproxy amphora")

	// ErrCertificateUnavailable: TLS needs a certificate file the caller did
	// not provide in Options.
	ErrCertificateUnavailable = errors.New("certificate not available")

	// ErrInvalidConfig: a value HAProxy cannot be given safely (bad address,
	// port out of range, control characters, two listeners on one port, a
	// missing required option).
	ErrInvalidConfig = errors.New("invalid haproxy configuration")
)
