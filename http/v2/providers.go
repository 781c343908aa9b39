package v2

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/octavia-es/octavia-es/events"
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
	// must resolve in (Octavia's _validate_tls_refs, at listener POST and
	// PUT); nil: references are accepted unchecked.
	Certificates CertificateChecker
	// UnsupportedOptions are the attributes (listener and pool TLS
	// references) the driver in use cannot run yet, with why: a request
	// setting one is Octavia's ProviderUnsupportedOptionError (501).
	UnsupportedOptions map[string]string
}

// CertificateChecker tells whether a TLS container reference can be read
// (certificates/files.Manager).
type CertificateChecker interface {
	CheckCertificate(ctx context.Context, ref string) error
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

// checkTLSRefs is Octavia's _validate_tls_refs: every reference the
// certificate manager cannot read is named, in the order given, as
// CertificateRetrievalException (400) does.
func (p providers) checkTLSRefs(ctx context.Context, refs []string) *fault.Error {
	if p.caps.Certificates == nil {
		return nil
	}
	var bad []any
	for _, ref := range refs {
		if err := p.caps.Certificates.CheckCertificate(ctx, ref); err != nil {
			bad = append(bad, ref)
		}
	}
	if len(bad) > 0 {
		return fault.BadRequest("Could not retrieve certificate: %s", pyRepr(bad))
	}
	return nil
}

// supportsOptions refuses the first attribute set (in attrs' order) that
// the driver in use cannot run.
func (p providers) supportsOptions(provider string, set map[string]bool, attrs ...string) *fault.Error {
	for _, a := range attrs {
		if why, unsupported := p.caps.UnsupportedOptions[a]; unsupported && set[a] {
			return unsupportedOption(provider, "%s", why)
		}
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

// listenerTLS is the certificate checks of a listener POST: its SNI and
// default references must resolve (in Octavia's order), then the driver
// must serve what it asks for.
func (p providers) listenerTLS(ctx context.Context, provider string, spec events.Listener) *fault.Error {
	refs := append([]string{}, spec.SNIContainerRefs...)
	if truthy(spec.DefaultTLSContainerRef) {
		refs = append(refs, *spec.DefaultTLSContainerRef)
	}
	if ferr := p.checkTLSRefs(ctx, refs); ferr != nil {
		return ferr
	}
	return p.supportsOptions(provider, map[string]bool{
		"client_ca_tls_container_ref": truthy(spec.ClientCATLSContainerRef),
		"client_crl_container_ref":    truthy(spec.ClientCRLContainerRef),
	}, "client_ca_tls_container_ref", "client_crl_container_ref")
}

// listenerUpdateTLS is listenerTLS for the attributes a PUT sets.
func (p providers) listenerUpdateTLS(ctx context.Context, provider string, l *record) *fault.Error {
	refs := l.strings("sni_container_refs")
	if ref := l.str("default_tls_container_ref"); truthy(ref) {
		refs = append(refs, *ref)
	}
	if ferr := p.checkTLSRefs(ctx, refs); ferr != nil {
		return ferr
	}
	return p.supportsOptions(provider, map[string]bool{
		"client_ca_tls_container_ref": truthy(l.str("client_ca_tls_container_ref")),
		"client_crl_container_ref":    truthy(l.str("client_crl_container_ref")),
	}, "client_ca_tls_container_ref", "client_crl_container_ref")
}

// poolTLS refuses the pool certificate attributes (set in a POST's spec or
// a PUT's body) the driver cannot run.
func (p providers) poolTLS(provider string, tls, ca, crl *string) *fault.Error {
	return p.supportsOptions(provider, map[string]bool{
		"tls_container_ref": truthy(tls), "ca_tls_container_ref": truthy(ca), "crl_container_ref": truthy(crl),
	}, "tls_container_ref", "ca_tls_container_ref", "crl_container_ref")
}
