package haproxy

import (
	"fmt"

	"github.com/octavia-es/octavia-es/events"
)

// sslHeaders are the X-SSL-* headers of a TLS-terminating listener, in
// Octavia's order, with the value each one carries.
var sslHeaders = []struct{ name, value string }{
	{"X-SSL-Client-Verify", "%[ssl_c_verify]"},
	{"X-SSL-Client-Has-Cert", "%[ssl_c_used]"},
	{"X-SSL-Client-DN", "%{+Q}[ssl_c_s_dn]"},
	{"X-SSL-Client-CN", "%{+Q}[ssl_c_s_dn(cn)]"},
	{"X-SSL-Issuer", "%{+Q}[ssl_c_i_dn]"},
	{"X-SSL-Client-SHA1", "%{+Q}[ssl_c_sha1,hex]"},
	{"X-SSL-Client-Not-Before", "%{+Q}[ssl_c_notbefore]"},
	{"X-SSL-Client-Not-After", "%{+Q}[ssl_c_notafter]"},
}

// buildBackend is Octavia's backend_macro for a listener's pool.
func buildBackend(l events.Listener, lv listenerView, p events.Pool, g graph, opts Options) (backendView, error) {
	mode := poolModes[p.Protocol] // protocol checked by index
	proxyProtocol := 0
	switch p.Protocol {
	case protoProxy:
		proxyProtocol = 1
	case protoProxyV2:
		proxyProtocol = 2
	}
	if proxyProtocol != 0 {
		mode = lv.Mode
	}
	algo, ok := balance[p.LBAlgorithm]
	if !ok {
		return backendView{}, fmt.Errorf("pool %s: lb_algorithm %q: %w", p.ID, p.LBAlgorithm, ErrUnsupportedOption)
	}
	b := backendView{
		Name:           BackendName(p.ID, l.ID),
		Disabled:       lv.Disabled || !p.AdminStateUp,
		Mode:           mode,
		HTTPReuse:      p.Protocol == protoHTTP || (proxyProtocol != 0 && lv.Mode == "http"),
		Balance:        algo,
		LoadState:      opts.StateFile != "",
		FullConn:       lv.MaxConn,
		TimeoutConnect: orDefault(l.TimeoutMemberConnect, DefaultTimeoutMemberConnect),
		TimeoutServer:  orDefault(l.TimeoutMemberData, DefaultTimeoutMemberData),
	}
	err := persistence(&b, p, lv.IPv6, opts)
	if err != nil {
		return backendView{}, err
	}
	var hm *events.HealthMonitor
	if m, ok := g.monitors[p.ID]; ok && m.AdminStateUp {
		hm = &m
		if b.Check, err = healthCheck(hm, opts); err != nil {
			return backendView{}, err
		}
	}
	b.Headers = insertHeaders(l, p)
	serverTLS, err := serverTLS(p, opts)
	if err != nil {
		return backendView{}, err
	}
	for _, m := range g.members[p.ID] {
		s, err := server(m, p, hm, proxyProtocol, l.Protocol == protoTerminatedHTTPS, serverTLS)
		if err != nil {
			return backendView{}, err
		}
		b.Servers = append(b.Servers, s)
	}
	return b, nil
}

// persistence is session_persistence as Octavia renders it. HAProxy
// ignores cookies in a tcp backend (with a warning), as Octavia's do.
func persistence(b *backendView, p events.Pool, ipv6 bool, opts Options) error {
	sp := p.SessionPersistence
	if sp == nil {
		return nil
	}
	switch sp.Type {
	case persistSourceIP:
		kind := "ip" // IPv4 keys; an IPv6 VIP only sees IPv6 clients
		if ipv6 {
			kind = "ipv6"
		}
		b.StickTable = "type " + kind + " size " + opts.stickSize()
		b.StickRules = []string{"on src"}
	case persistAppCookie:
		if sp.CookieName == nil {
			return fmt.Errorf("pool %s: APP_COOKIE without cookie_name: %w", p.ID, ErrInvalidConfig)
		}
		name, err := cookieName(*sp.CookieName)
		if err != nil {
			return fmt.Errorf("pool %s: %w", p.ID, err)
		}
		b.StickTable = "type string len 64 size " + opts.stickSize()
		b.StickRules = []string{"store-response res.cook(" + name + ")", "match req.cook(" + name + ")"}
	case persistHTTPCookie:
		b.Cookie = true
	default:
		return fmt.Errorf("pool %s: session_persistence %q: %w", p.ID, sp.Type, ErrUnsupportedOption)
	}
	return nil
}

// insertHeaders is insert_headers as Octavia renders them in the backend:
// X-Forwarded-For/-Port for HTTP pools, -Proto for HTTP and
// TERMINATED_HTTPS listeners, X-SSL-* for TERMINATED_HTTPS listeners.
// Headers Octavia would not render there are ignored as Octavia does (the
// API refuses them).
func insertHeaders(l events.Listener, p events.Pool) []string {
	h := l.InsertHeaders
	var out []string
	if p.Protocol == protoHTTP {
		if headerOn(h, "X-Forwarded-For") {
			out = append(out, "option forwardfor")
		}
		if headerOn(h, "X-Forwarded-Port") {
			out = append(out, "http-request set-header X-Forwarded-Port %[dst_port]")
		}
	}
	if headerOn(h, "X-Forwarded-Proto") {
		switch l.Protocol {
		case protoHTTP:
			out = append(out, "http-request set-header X-Forwarded-Proto http")
		case protoTerminatedHTTPS:
			out = append(out, "http-request set-header X-Forwarded-Proto https")
		}
	}
	if l.Protocol == protoTerminatedHTTPS {
		for _, s := range sslHeaders {
			if headerOn(h, s.name) {
				out = append(out, "http-request set-header "+s.name+" "+s.value)
			}
		}
	}
	return out
}
