package haproxy

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/octavia-es/octavia-es/events"
)

// tlsVersions: the "no-*" bind/server option of each version Octavia
// knows, in Octavia's order.
var tlsVersions = []struct{ name, off string }{
	{"SSLv3", "no-sslv3"},
	{"TLSv1", "no-tlsv10"},
	{"TLSv1.1", "no-tlsv11"},
	{"TLSv1.2", "no-tlsv12"},
	{"TLSv1.3", "no-tlsv13"},
}

var alpnProtocol = regexp.MustCompile(`^[A-Za-z0-9./-]+$`)

func buildListener(lb events.LoadBalancer, l events.Listener, g graph, vips []netip.Addr, opts Options) (listenerView, error) {
	if err := checkID("listener", l.ID); err != nil {
		return listenerView{}, err
	}
	mode, ok := listenerModes[l.Protocol]
	if !ok {
		return listenerView{}, fmt.Errorf("listener %s: protocol %q: %w", l.ID, l.Protocol, ErrUnsupportedProtocol)
	}
	if err := checkPort("listener "+l.ID, l.ProtocolPort); err != nil {
		return listenerView{}, err
	}
	lv := listenerView{
		Name:          FrontendName(l.ID),
		Disabled:      !l.AdminStateUp || !lb.AdminStateUp,
		MaxConn:       opts.defaultConnectionLimit(),
		Mode:          mode,
		RedirectHTTPS: l.Protocol == protoTerminatedHTTPS,
		Prometheus:    l.Protocol == protoPrometheus,
		TimeoutClient: orDefault(l.TimeoutClientData, DefaultTimeoutClientData),
		InspectDelay:  orDefault(l.TimeoutTCPInspect, DefaultTimeoutTCPInspect),
		IPv6:          vips[0].Is6(),
	}
	// Octavia: a limit of -1 (or 0) is the default.
	if l.ConnectionLimit > 0 {
		lv.MaxConn = l.ConnectionLimit
	}
	tls, err := bindTLS(l, opts)
	if err != nil {
		return listenerView{}, err
	}
	for _, a := range vips {
		lv.Binds = append(lv.Binds, strings.TrimSpace(hostPort(a, l.ProtocolPort)+" "+tls))
	}
	if lv.AllowedCIDRs, err = allowedCIDRs(l); err != nil {
		return listenerView{}, err
	}
	if opts.LogTarget != "" {
		if lv.LogFormat, err = logFormat(lb, l.Protocol); err != nil {
			return listenerView{}, err
		}
	}
	if lv.Prometheus {
		return lv, nil // no pools: HAProxy's exporter serves it
	}
	if l.DefaultPoolID == nil {
		return lv, nil
	}
	pool, ok := g.pools[*l.DefaultPoolID]
	if !ok {
		return lv, nil // being deleted: the frontend answers 503
	}
	b, err := buildBackend(l, lv, pool, g, opts)
	if err != nil {
		return listenerView{}, err
	}
	lv.DefaultBackend = b.Name
	lv.Backend = &b
	return lv, nil
}

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// bindTLS is the TLS part of a bind line (Octavia's bind_macro) for a
// listener that terminates TLS, "" otherwise.
func bindTLS(l events.Listener, opts Options) (string, error) {
	hasRefs := (l.DefaultTLSContainerRef != nil && *l.DefaultTLSContainerRef != "") || len(l.SNIContainerRefs) > 0
	if l.Protocol != protoTerminatedHTTPS && !(l.Protocol == protoPrometheus && hasRefs) {
		return "", nil
	}
	path, ok := opts.Certificates[l.ID]
	if !ok || path == "" {
		return "", fmt.Errorf("listener %s (%s): no certificate file given: %w", l.ID, l.Protocol, ErrCertificateUnavailable)
	}
	parts := []string{"ssl"}
	for _, p := range append([]string{path}, opts.SNICertificates[l.ID]...) {
		crt, err := quoteArg(p)
		if err != nil {
			return "", fmt.Errorf("listener %s certificate path: %w", l.ID, err)
		}
		parts = append(parts, "crt "+crt)
	}
	clientAuth, err := bindClientAuth(l, opts)
	if err != nil {
		return "", err
	}
	parts = append(parts, clientAuth...)
	more, err := tlsOptions("listener "+l.ID, l.TLSCiphers, l.TLSVersions, l.ALPNProtocols)
	if err != nil {
		return "", err
	}
	return strings.Join(append(parts, more...), " "), nil
}

// clientAuthModes is Octavia's CLIENT_AUTH_MAP.
var clientAuthModes = map[string]string{"NONE": "none", "OPTIONAL": "optional", "MANDATORY": "required"}

// bindClientAuth is the client certificate part of a TLS bind (Octavia's
// client_ca_opt and ca_crl_opt): "ca-file <CA> verify <mode>" and, with a
// revocation list, "crl-file <CRL>"; nothing without a client CA.
func bindClientAuth(l events.Listener, opts Options) ([]string, error) {
	if l.ClientCATLSContainerRef == nil || *l.ClientCATLSContainerRef == "" {
		return nil, nil
	}
	mode, ok := clientAuthModes[l.ClientAuthentication]
	if l.ClientAuthentication == "" {
		mode, ok = "none", true
	}
	if !ok {
		return nil, fmt.Errorf("listener %s: client_authentication %q: %w", l.ID, l.ClientAuthentication, ErrUnsupportedOption)
	}
	file := func(what string, files map[string]string) (string, error) {
		p, ok := files[l.ID]
		if !ok || p == "" {
			return "", fmt.Errorf("listener %s: no %s file given: %w", l.ID, what, ErrCertificateUnavailable)
		}
		q, err := quoteArg(p)
		if err != nil {
			return "", fmt.Errorf("listener %s %s path: %w", l.ID, what, err)
		}
		return q, nil
	}
	ca, err := file("client CA", opts.ClientCAs)
	if err != nil {
		return nil, err
	}
	out := []string{"ca-file " + ca, "verify " + mode}
	if l.ClientCRLContainerRef != nil && *l.ClientCRLContainerRef != "" {
		crl, err := file("client CRL", opts.ClientCRLs)
		if err != nil {
			return nil, err
		}
		out = append(out, "crl-file "+crl)
	}
	return out, nil
}

// tlsOptions: ciphers, disabled versions and ALPN, as Octavia renders them
// on binds and servers. A nil or empty version list leaves HAProxy's
// defaults.
func tlsOptions(what string, ciphers *string, versions, alpn []string) ([]string, error) {
	var out []string
	if ciphers != nil && *ciphers != "" {
		if !validCiphers.MatchString(*ciphers) {
			return nil, fmt.Errorf("%s: tls_ciphers %q: %w", what, *ciphers, ErrInvalidConfig)
		}
		out = append(out, "ciphers "+*ciphers)
	}
	if len(versions) > 0 {
		for _, v := range tlsVersions {
			if !slices.Contains(versions, v.name) {
				out = append(out, v.off)
			}
		}
	}
	if len(alpn) > 0 {
		for _, p := range alpn {
			if !alpnProtocol.MatchString(p) {
				return nil, fmt.Errorf("%s: alpn protocol %q: %w", what, p, ErrInvalidConfig)
			}
		}
		out = append(out, "alpn "+strings.Join(alpn, ","))
	}
	return out, nil
}

// allowedCIDRs: the source networks allowed in, canonical, sorted and
// without duplicates ("" = no restriction).
func allowedCIDRs(l events.Listener) (string, error) {
	if len(l.AllowedCIDRs) == 0 {
		return "", nil
	}
	prefixes := make([]netip.Prefix, 0, len(l.AllowedCIDRs))
	for _, c := range l.AllowedCIDRs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return "", fmt.Errorf("listener %s: allowed_cidr %q: %w", l.ID, c, ErrInvalidConfig)
		}
		prefixes = append(prefixes, p.Masked())
	}
	slices.SortFunc(prefixes, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	prefixes = slices.Compact(prefixes)
	words := make([]string, len(prefixes))
	for i, p := range prefixes {
		words[i] = p.String()
	}
	return strings.Join(words, " "), nil
}
