package local

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"time"
)

// probeTimeout bounds one readiness probe.
const probeTimeout = 2 * time.Second

// prober tells whether an amphora's agent answers on its port with the
// certificate the CA issued for it (Octavia's amphora driver checks the
// certificate names the amphora id the same way).
type prober struct {
	pool   *x509.CertPool
	client *tls.Certificate // nil: handshake only
}

func (p prober) tlsConfig(amphoraID string) *tls.Config {
	conf := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// Verified below: against the CA, and by amphora id instead of host.
		InsecureSkipVerify: true, //nolint:gosec
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("agent sent no certificate")
			}
			leaf := cs.PeerCertificates[0]
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: p.pool, Intermediates: inter,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
				return fmt.Errorf("agent certificate: %w", err)
			}
			if leaf.Subject.CommonName != amphoraID && !slices.Contains(leaf.DNSNames, amphoraID) {
				return fmt.Errorf("agent certificate is for %q, not amphora %s", leaf.Subject.CommonName, amphoraID)
			}
			return nil
		},
	}
	if p.client != nil {
		conf.Certificates = []tls.Certificate{*p.client}
	}
	return conf
}

// probe checks once: with a client certificate GET /1.0/info must answer
// 200; without, the TLS handshake must succeed.
func (p prober) probe(ctx context.Context, amphoraID, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	conf := p.tlsConfig(amphoraID)
	if p.client == nil {
		conn, err := (&tls.Dialer{Config: conf}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return conn.Close()
	}
	tr := &http.Transport{TLSClientConfig: conf, DisableKeepAlives: true,
		DialContext: (&net.Dialer{}).DialContext, ForceAttemptHTTP2: false}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+addr+"/1.0/info", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /1.0/info: %s", resp.Status)
	}
	return nil
}
