package agent

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// maxServerCertSize bounds an uploaded server certificate (PEM cert + key).
const maxServerCertSize = 64 << 10

// serverCert is the agent's own TLS certificate, swapped live by
// PUT /1.0/certificate (Octavia's certificate_update): new handshakes get
// the new certificate through tls.Config.GetCertificate; HAProxy and open
// connections are untouched.
type serverCert struct {
	certFile, keyFile string
	ampID             string
	roots             *x509.CertPool // the client CA: the controller's CA issues both

	mu  sync.Mutex // serialises replace
	cur atomic.Pointer[tls.Certificate]
}

func newServerCert(c TLSConfig, ampID string, roots *x509.CertPool) (*serverCert, error) {
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("amphora agent: server certificate: %w", err)
	}
	s := &serverCert{certFile: c.CertFile, keyFile: c.KeyFile, ampID: ampID, roots: roots}
	s.cur.Store(&cert)
	return s, nil
}

func (s *serverCert) get(*tls.ClientHelloInfo) (*tls.Certificate, error) { return s.cur.Load(), nil }

// notAfter is when the current certificate expires.
func (s *serverCert) notAfter() time.Time {
	if c := s.cur.Load(); c != nil && c.Leaf != nil {
		return c.Leaf.NotAfter
	}
	return time.Time{}
}

// replace validates body (PEM certificate, its chain and its private key),
// writes it over the configured files and serves it from the next
// handshake on. A refused body changes nothing (a *badCertError).
func (s *serverCert) replace(body []byte, now time.Time) (*x509.Certificate, error) {
	certPEM, keyPEM := splitPEM(body)
	if len(certPEM) == 0 || len(keyPEM) == 0 {
		return nil, &badCertError{msg: "want a PEM certificate and its PEM private key"}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, &badCertError{msg: fmt.Sprintf("invalid certificate: %v", err)}
	}
	leaf := cert.Leaf
	inter := x509.NewCertPool()
	for _, der := range cert.Certificate[1:] {
		if c, err := x509.ParseCertificate(der); err == nil {
			inter.AddCert(c)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{
		DNSName: s.ampID, Roots: s.roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}); err != nil {
		return nil, &badCertError{msg: fmt.Sprintf("certificate refused for amphora %s: %v", s.ampID, err)}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Key first: a crash between the writes leaves the old certificate
	// with a new key, which the next start refuses loudly rather than
	// serving a mismatch.
	if s.certFile == s.keyFile {
		err = writeFileAtomic(s.certFile, append(append([]byte{}, certPEM...), keyPEM...), 0o600)
	} else if err = writeFileAtomic(s.keyFile, keyPEM, 0o600); err == nil {
		err = writeFileAtomic(s.certFile, certPEM, 0o600)
	}
	if err != nil {
		return nil, fmt.Errorf("write the server certificate: %w", err)
	}
	s.cur.Store(&cert)
	return leaf, nil
}

// splitPEM separates certificate blocks from the private key block.
func splitPEM(body []byte) (certs, key []byte) {
	for len(body) > 0 {
		var b *pem.Block
		b, body = pem.Decode(body)
		if b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE":
			certs = append(certs, pem.EncodeToMemory(b)...)
		case "PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY":
			if key == nil {
				key = pem.EncodeToMemory(b)
			}
		}
	}
	return certs, key
}

// updateServerCert is Octavia's certificate_update (PUT /1.0/certificate):
// 202 {"message": "OK"} once the new certificate is written and served.
func (a *api) updateServerCert(w http.ResponseWriter, r *http.Request) {
	const failed = "Unable to update the amphora agent certificate."
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxServerCertSize))
	if err != nil {
		writeMessage(w, http.StatusBadRequest, failed, "certificate unreadable or larger than 64 KiB")
		return
	}
	leaf, err := a.cert.replace(body, time.Now())
	var bad *badCertError
	switch {
	case errors.As(err, &bad):
		writeMessage(w, http.StatusBadRequest, failed, bad.msg)
		return
	case err != nil:
		a.log.Error("update the agent certificate", "err", err)
		writeMessage(w, http.StatusInternalServerError, failed, err.Error())
		return
	}
	a.log.Info("agent certificate rotated", "serial", leaf.SerialNumber.String(),
		"not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
	writeJSON(w, http.StatusAccepted, map[string]string{"message": "OK"})
}
