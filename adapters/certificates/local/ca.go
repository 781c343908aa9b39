// Package local is a certificate authority kept in a directory, as
// Octavia's LocalCertGenerator: it signs amphora server certificates and
// controller client certificates with an ECDSA P-256 key.
package local

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/octavia-es/octavia-es/adapters/certificates"
)

var _ certificates.Generator = (*CA)(nil)

// File names of the CA in its directory.
const (
	CertFile = "ca-cert.pem"
	KeyFile  = "ca-key.pem"
)

// CAValidity is how long a CA created by NewCA is valid.
const CAValidity = 10 * 365 * 24 * time.Hour

// clockSkew backdates NotBefore so a peer whose clock is slightly behind
// accepts a fresh certificate.
const clockSkew = 5 * time.Minute

// CA is a loaded certificate authority. Immutable, safe for concurrent use.
type CA struct {
	cert    *x509.Certificate
	certPEM []byte
	key     *ecdsa.PrivateKey
	pool    *x509.CertPool
}

// NewCA loads the CA in dir, or creates it (directory 0700, files 0600)
// when dir holds neither file. A CA that is incomplete, unreadable,
// mismatched or expired is an error, never silently replaced: amphorae
// booted earlier trust the old one.
func NewCA(dir string) (*CA, error) {
	certPath, keyPath := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	switch {
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		return create(dir, certPath, keyPath)
	case certErr != nil:
		return nil, fmt.Errorf("local CA: %w", certErr)
	case keyErr != nil:
		return nil, fmt.Errorf("local CA: %w", keyErr)
	}
	return load(certPEM, keyPEM, time.Now())
}

func create(dir, certPath, keyPath string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("local CA: generate key: %w", err)
	}
	now := time.Now()
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "octavia-es amphora CA", Organization: []string{"octavia-es"}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(CAValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("local CA: self-sign: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("local CA: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("local CA: %w", err)
	}
	// The key first: a crash in between leaves a key without a certificate,
	// which NewCA refuses instead of minting a second CA.
	if err := writeFileAtomic(keyPath, keyPEM); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(certPath, certPEM); err != nil {
		return nil, err
	}
	return load(certPEM, keyPEM, now)
}

func load(certPEM, keyPEM []byte, now time.Time) (*CA, error) {
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, errors.New("local CA: certificate file holds no PEM certificate")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("local CA: certificate: %w", err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, errors.New("local CA: key file holds no PEM key")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("local CA: key: %w", err)
	}
	key, ok := parsed.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("local CA: key is a %T, want ECDSA", parsed)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, errors.New("local CA: key does not match the certificate")
	}
	if !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, errors.New("local CA: certificate is not a CA")
	}
	if now.After(cert.NotAfter) {
		return nil, fmt.Errorf("local CA: certificate expired on %s", cert.NotAfter.Format(time.RFC3339))
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{cert: cert, certPEM: bytes.Clone(certPEM), key: key, pool: pool}, nil
}

// IssueServer implements certificates.Generator.
func (ca *CA) IssueServer(ctx context.Context, amphoraID string, hosts []string, validity time.Duration) ([]byte, []byte, error) {
	if amphoraID == "" {
		return nil, nil, errors.New("local CA: server certificate without an amphora id")
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: amphoraID},
		DNSNames:    []string{amphoraID},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" && h != amphoraID {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return ca.issue(ctx, tmpl, validity)
}

// IssueClient implements certificates.Generator.
func (ca *CA) IssueClient(ctx context.Context, name string, validity time.Duration) ([]byte, []byte, error) {
	if name == "" {
		return nil, nil, errors.New("local CA: client certificate without a name")
	}
	return ca.issue(ctx, &x509.Certificate{
		Subject:     pkix.Name{CommonName: name},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, validity)
}

func (ca *CA) issue(ctx context.Context, tmpl *x509.Certificate, validity time.Duration) ([]byte, []byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if validity <= 0 {
		return nil, nil, fmt.Errorf("local CA: validity %v must be positive", validity)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("local CA: generate key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl.SerialNumber = serial
	tmpl.NotBefore = now.Add(-clockSkew)
	// A certificate can't outlive the CA that vouches for it.
	tmpl.NotAfter = now.Add(validity)
	if tmpl.NotAfter.After(ca.cert.NotAfter) {
		tmpl.NotAfter = ca.cert.NotAfter
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.BasicConstraintsValid = true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("local CA: sign: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("local CA: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// CACertPEM implements certificates.Generator.
func (ca *CA) CACertPEM() []byte { return bytes.Clone(ca.certPEM) }

// CertPool implements certificates.Generator.
func (ca *CA) CertPool() *x509.CertPool { return ca.pool.Clone() }

func newSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("local CA: serial: %w", err)
	}
	return serial.Add(serial, big.NewInt(1)), nil // never 0
}

// writeFileAtomic writes a 0600 file (CreateTemp's mode) through a temporary
// file and a rename, so a reader never sees half of it.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("local CA: %w", err)
	}
	defer os.Remove(f.Name()) // no-op after the rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("local CA: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("local CA: sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("local CA: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("local CA: %w", err)
	}
	return nil
}
