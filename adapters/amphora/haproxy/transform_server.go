package haproxy

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/octavia-es/octavia-es/events"
)

// serverTLS is the re-encryption part of a pool's server lines (Octavia's
// member_macro with tls_enabled): "ssl", the client certificate the
// members see (tls_container_ref), the CA that verifies them
// (ca_tls_container_ref) and its revocation list, "verify" as Octavia
// renders it (none without a CA, required with a CA and a CRL, HAProxy's
// default, required, with a CA alone), SNI, then ciphers, versions, ALPN.
// Certificate references are ignored without tls_enabled, as Octavia does.
func serverTLS(p events.Pool, opts Options) (string, error) {
	if !p.TLSEnabled {
		return "", nil
	}
	parts := []string{"ssl"}
	file := func(ref *string, what string, files map[string]string) (string, error) {
		if ref == nil || *ref == "" {
			return "", nil
		}
		path, ok := files[p.ID]
		if !ok || path == "" {
			return "", fmt.Errorf("pool %s: no %s file given: %w", p.ID, what, ErrCertificateUnavailable)
		}
		q, err := quoteArg(path)
		if err != nil {
			return "", fmt.Errorf("pool %s %s path: %w", p.ID, what, err)
		}
		return q, nil
	}
	crt, err := file(p.TLSContainerRef, "client certificate", opts.PoolCertificates)
	if err != nil {
		return "", err
	}
	ca, err := file(p.CATLSContainerRef, "CA", opts.PoolCAs)
	if err != nil {
		return "", err
	}
	crl := ""
	if ca != "" {
		if crl, err = file(p.CRLContainerRef, "CRL", opts.PoolCRLs); err != nil {
			return "", err
		}
	}
	if crt != "" {
		parts = append(parts, "crt "+crt)
	}
	switch {
	case ca == "":
		parts = append(parts, "verify none")
	case crl == "":
		parts = append(parts, "ca-file "+ca)
	default:
		parts = append(parts, "ca-file "+ca, "crl-file "+crl, "verify required")
	}
	parts = append(parts, "sni ssl_fc_sni")
	more, err := tlsOptions("pool "+p.ID, p.TLSCiphers, p.TLSVersions, p.ALPNProtocols)
	if err != nil {
		return "", err
	}
	return strings.Join(append(parts, more...), " "), nil
}

// server is one member's "server" arguments, options in Octavia's order.
func server(m events.Member, p events.Pool, hm *events.HealthMonitor, proxyProtocol int, listenerTLS bool, tls string) (string, error) {
	addr, err := parseAddr("member "+m.ID, m.Address)
	if err != nil {
		return "", err
	}
	if err := checkPort("member "+m.ID, m.ProtocolPort); err != nil {
		return "", err
	}
	if m.Weight < 0 || m.Weight > 256 {
		return "", fmt.Errorf("member %s weight %d: %w", m.ID, m.Weight, ErrInvalidConfig)
	}
	parts := []string{ServerName(m.ID), hostPort(addr, m.ProtocolPort), "weight " + strconv.Itoa(m.Weight)}
	if hm != nil {
		opt, err := checkOptions(hm, m)
		if err != nil {
			return "", err
		}
		parts = append(parts, opt)
	}
	if p.SessionPersistence != nil && p.SessionPersistence.Type == persistHTTPCookie {
		parts = append(parts, "cookie "+m.ID)
	}
	switch {
	case proxyProtocol == 1:
		parts = append(parts, "send-proxy")
	case proxyProtocol == 2 && listenerTLS:
		parts = append(parts, "send-proxy-v2-ssl-cn")
	case proxyProtocol == 2:
		parts = append(parts, "send-proxy-v2")
	}
	if m.Backup {
		parts = append(parts, "backup")
	}
	if !m.AdminStateUp {
		parts = append(parts, "disabled")
	}
	if tls != "" {
		parts = append(parts, tls)
	}
	return strings.Join(parts, " "), nil
}
