package haproxy

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/octavia-es/octavia-es/events"
)

// serverTLS is the re-encryption part of a pool's server lines (Octavia's
// member_macro with tls_enabled): no verification until CA files can be
// delivered, which is why a pool naming certificates is refused.
func serverTLS(p events.Pool) (string, error) {
	if !p.TLSEnabled {
		return "", nil
	}
	for _, ref := range []*string{p.TLSContainerRef, p.CATLSContainerRef, p.CRLContainerRef} {
		if ref != nil && *ref != "" {
			return "", fmt.Errorf("pool %s: client certificate, CA and CRL files are not supported yet: %w", p.ID, ErrCertificateUnavailable)
		}
	}
	parts := []string{"ssl", "verify none", "sni ssl_fc_sni"}
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
