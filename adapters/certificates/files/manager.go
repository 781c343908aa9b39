// Package files is a certificate manager over PEM files on the
// controller, as Octavia's local_cert_manager (octavia/certificates/
// manager/local.py) is over its storage_path: a listener's
// default_tls_container_ref (and sni_container_refs) is a file:// URL
// naming a PEM bundle under the manager's directory. Barbican comes later,
// behind the same two calls.
//
// A bundle holds one unencrypted private key, the certificate it belongs
// to and, optionally, the intermediates of its chain, in any order.
package files

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// MaxBundle bounds a file (a certificate chain and a key are a few KiB, a
// revocation list rarely more than a few hundred).
const MaxBundle = 1 << 20

// Errors, wrapped with the reference and the reason.
var (
	// ErrInvalidRef: not a file:// URL of an absolute path, or a path
	// outside the manager's directory.
	ErrInvalidRef = errors.New("invalid certificate reference")
	// ErrNotFound: nothing readable at the reference.
	ErrNotFound = errors.New("certificate not found")
	// ErrInvalidBundle: the file is not a usable PEM bundle.
	ErrInvalidBundle = errors.New("invalid certificate bundle")
)

// Certificate is a bundle read from a reference (Octavia's TLSContainer).
type Certificate struct {
	Ref           string
	Certificate   []byte   // the leaf, PEM
	PrivateKey    []byte   // its key, PEM as found
	Intermediates [][]byte // the rest of the chain, PEM, in file order
	PrimaryCN     string   // the leaf's subject common name
}

// PEM is the bundle as HAProxy loads it (Octavia's build_pem):
// certificate, key, intermediates.
func (c Certificate) PEM() []byte {
	var b bytes.Buffer
	b.Write(c.Certificate)
	b.Write(c.PrivateKey)
	for _, i := range c.Intermediates {
		b.Write(i)
	}
	return b.Bytes()
}

// Manager reads certificates under one directory. Safe for concurrent use:
// it holds no state besides its directory.
type Manager struct {
	dir string // absolute, symlinks resolved
}

// New returns a manager of the PEM bundles under dir (created, 0700, if
// missing).
func New(dir string) (*Manager, error) {
	if dir == "" {
		return nil, errors.New("certificate manager: no storage directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("certificate manager: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return nil, fmt.Errorf("certificate manager: %w", err)
	}
	return &Manager{dir: abs}, nil
}

// Dir is the directory references must point into.
func (m *Manager) Dir() string { return m.dir }

// GetCertificate reads and checks the bundle ref names.
func (m *Manager) GetCertificate(ctx context.Context, ref string) (Certificate, error) {
	if err := ctx.Err(); err != nil {
		return Certificate{}, err
	}
	raw, err := m.read(ref)
	if err != nil {
		return Certificate{}, err
	}
	c, err := parseBundle(raw)
	if err != nil {
		return Certificate{}, fmt.Errorf("%s: %w: %v", ref, ErrInvalidBundle, err)
	}
	c.Ref = ref
	return c, nil
}

// BundlePEM is the bundle ref names, as HAProxy loads it (Certificate.PEM).
func (m *Manager) BundlePEM(ctx context.Context, ref string) ([]byte, error) {
	c, err := m.GetCertificate(ctx, ref)
	if err != nil {
		return nil, err
	}
	return c.PEM(), nil
}

// GetSecret is the content of the file ref names, as it is (Octavia's
// get_secret: a client CA bundle or a revocation list, PEM).
func (m *Manager) GetSecret(ctx context.Context, ref string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return m.read(ref)
}

// CheckCertificate is GetCertificate without the result (the API's check
// of a reference, Octavia's get_cert(check_only=True)).
func (m *Manager) CheckCertificate(ctx context.Context, ref string) error {
	_, err := m.GetCertificate(ctx, ref)
	return err
}

// path resolves ref to a file inside the directory.
func (m *Manager) path(ref string) (string, error) {
	u, err := url.Parse(ref)
	if err != nil || u.Scheme != "file" || (u.Host != "" && u.Host != "localhost") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%s: %w: want file:///<absolute path> under %s", ref, ErrInvalidRef, m.dir)
	}
	p := u.Path
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("%s: %w: want an absolute path", ref, ErrInvalidRef)
	}
	real, err := filepath.EvalSymlinks(filepath.Clean(p))
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%s: %w", ref, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w: %v", ref, ErrNotFound, err)
	}
	// After the links: a link inside pointing outside is outside.
	if rel, err := filepath.Rel(m.dir, real); err != nil || rel == "." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || rel == ".." {
		return "", fmt.Errorf("%s: %w: not under %s", ref, ErrInvalidRef, m.dir)
	}
	return real, nil
}

func (m *Manager) read(ref string) ([]byte, error) {
	p, err := m.path(ref)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", ref, ErrNotFound, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w: not a regular file", ref, ErrNotFound)
	}
	raw, err := io.ReadAll(io.LimitReader(f, MaxBundle+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", ref, ErrNotFound, err)
	}
	if len(raw) > MaxBundle {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", ref, ErrInvalidBundle, MaxBundle)
	}
	return raw, nil
}

// parseBundle finds the key, the certificate it belongs to (the leaf) and
// the other certificates (intermediates).
func parseBundle(raw []byte) (Certificate, error) {
	var (
		certs  []*x509.Certificate
		pems   [][]byte
		key    crypto.Signer
		keyPEM []byte
	)
	for rest := raw; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch {
		case b.Type == "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return Certificate{}, fmt.Errorf("certificate %d: %v", len(certs)+1, err)
			}
			certs = append(certs, c)
			pems = append(pems, pem.EncodeToMemory(b))
		case strings.HasSuffix(b.Type, "PRIVATE KEY"):
			if key != nil {
				return Certificate{}, errors.New("more than one private key")
			}
			//nolint:staticcheck // detecting legacy encryption to refuse it
			if b.Type == "ENCRYPTED PRIVATE KEY" || x509.IsEncryptedPEMBlock(b) {
				return Certificate{}, errors.New("the private key is encrypted: passphrases are not supported, store it unencrypted (mode 0600)")
			}
			k, err := parseKey(b)
			if err != nil {
				return Certificate{}, err
			}
			key, keyPEM = k, pem.EncodeToMemory(b)
		}
	}
	if key == nil {
		return Certificate{}, errors.New("no private key")
	}
	if len(certs) == 0 {
		return Certificate{}, errors.New("no certificate")
	}
	leaf := -1
	for i, c := range certs {
		if samePublicKey(c.PublicKey, key.Public()) {
			leaf = i
			break
		}
	}
	if leaf < 0 {
		return Certificate{}, errors.New("no certificate matches the private key")
	}
	out := Certificate{Certificate: pems[leaf], PrivateKey: keyPEM, PrimaryCN: certs[leaf].Subject.CommonName}
	for i, p := range pems {
		if i != leaf {
			out.Intermediates = append(out.Intermediates, p)
		}
	}
	return out, nil
}

func parseKey(b *pem.Block) (crypto.Signer, error) {
	var (
		k   any
		err error
	)
	switch b.Type {
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(b.Bytes)
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	default:
		return nil, fmt.Errorf("unsupported private key type %q", b.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("private key: %v", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key of type %T cannot sign", k)
	}
	return s, nil
}

func samePublicKey(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	switch k := a.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return k.(equaler).Equal(b)
	}
	return false
}
