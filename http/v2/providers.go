package v2

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/octavia-es/octavia-es/http/fault"
)

// ProviderCapabilities narrows what the enabled providers serve to what the
// amphora driver in use can run (the local amphorae's HAProxy serves no
// UDP or SCTP). An empty list restricts nothing.
type ProviderCapabilities struct {
	// ListenerProtocols are the listener protocols served.
	ListenerProtocols []string
	// PoolProtocols are the pool protocols served.
	PoolProtocols []string
	// Certificates is the certificate manager TLS container references
	// must resolve in (Octavia's _validate_tls_refs and
	// _validate_client_ca_and_crl_refs, at listener and pool POST and PUT);
	// nil: references are accepted unchecked.
	Certificates CertificateChecker
}

// CertificateChecker is the certificate manager as the API uses it
// (certificates/files.Manager): whether a listener certificate reference
// can be read, and the content of a client CA or revocation list.
type CertificateChecker interface {
	CheckCertificate(ctx context.Context, ref string) error
	GetSecret(ctx context.Context, ref string) ([]byte, error)
}

// octaviaListenerOrder is the order of Octavia's AMPHORA_SUPPORTED_PROTOCOLS,
// in which the refusal lists what is supported.
var octaviaListenerOrder = []string{"TCP", "HTTP", "HTTPS", "TERMINATED_HTTPS", "PROXY", "PROXYV2", "UDP", "SCTP", "PROMETHEUS"}

// providers is the one place that knows which provider drivers are enabled
// and what they support (Octavia's driver_factory.get_driver plus a
// driver's capability checks).
type providers struct {
	enabled []string
	caps    ProviderCapabilities
}

func newProviders(enabled []string, caps ProviderCapabilities) providers {
	return providers{enabled: enabled, caps: caps}
}

// resolve is Octavia's choice of provider for a new load balancer: the
// default when the request names none, "amphora" when it names an empty
// one, and the named one only if it is enabled.
func (p providers) resolve(rec *record) (string, *fault.Error) {
	name := p.enabled[0]
	if rec.has("provider") {
		name = rec.strOr("provider", "")
		if name == "" {
			name = "amphora"
		}
	}
	return name, p.check(name)
}

// check refuses a provider that is not enabled (also for existing load
// balancers whose provider was disabled since).
func (p providers) check(name string) *fault.Error {
	if name == "" {
		name = "amphora"
	}
	if !contains(p.enabled, name) {
		return fault.BadRequest("Provider '%s' is not enabled.", name)
	}
	return nil
}

// supportsListenerProtocol is the provider's capability check of a new
// listener (Octavia's amphora driver _validate_listener_protocol): a
// protocol the driver in use cannot serve is Octavia's
// ProviderUnsupportedOptionError, 501.
func (p providers) supportsListenerProtocol(provider, protocol string) *fault.Error {
	if err := p.check(provider); err != nil {
		return err
	}
	if supported := p.caps.ListenerProtocols; len(supported) > 0 && !slices.Contains(supported, protocol) {
		return unsupportedOption(provider, "Amphora provider does not support %s protocol. Supported: %s",
			protocol, strings.Join(inOctaviaOrder(supported), ", "))
	}
	return nil
}

// supportsPoolProtocol is the same check for a new pool (Octavia's
// amphora driver serves every pool protocol; a narrower driver answers as
// for listeners).
func (p providers) supportsPoolProtocol(provider, protocol string) *fault.Error {
	if err := p.check(provider); err != nil {
		return err
	}
	if supported := p.caps.PoolProtocols; len(supported) > 0 && !slices.Contains(supported, protocol) {
		return unsupportedOption(provider, "Amphora provider does not support %s protocol. Supported: %s",
			protocol, strings.Join(inOctaviaOrder(supported), ", "))
	}
	return nil
}

// unsupportedOption is Octavia's ProviderUnsupportedOptionError.
func unsupportedOption(provider, format string, args ...any) *fault.Error {
	if provider == "" {
		provider = "amphora"
	}
	e := fault.New(http.StatusNotImplemented, format, args...)
	e.Message = "Provider '" + provider + "' does not support a requested option: " + e.Message
	return e
}

// inOctaviaOrder lists protocols as Octavia does (its constant's order),
// others after them, sorted.
func inOctaviaOrder(protocols []string) []string {
	out := make([]string, 0, len(protocols))
	for _, p := range octaviaListenerOrder {
		if slices.Contains(protocols, p) {
			out = append(out, p)
		}
	}
	var rest []string
	for _, p := range protocols {
		if !slices.Contains(octaviaListenerOrder, p) {
			rest = append(rest, p)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}
