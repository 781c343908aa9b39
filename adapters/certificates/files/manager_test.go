package files

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
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// issued is a certificate (PEM) with its key (PEM, PKCS#8 or SEC 1).
type issued struct {
	cert, key []byte
	tmpl      *x509.Certificate
	priv      *ecdsa.PrivateKey
}

func issue(t *testing.T, cn string, parent *issued, sec1 bool) issued {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: parent == nil, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		DNSNames: []string{cn},
	}
	signer, signerKey := tmpl, priv
	if parent != nil {
		signer, signerKey = parent.tmpl, parent.priv
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &priv.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	var kb *pem.Block
	if sec1 {
		raw, _ := x509.MarshalECPrivateKey(priv)
		kb = &pem.Block{Type: "EC PRIVATE KEY", Bytes: raw}
	} else {
		raw, _ := x509.MarshalPKCS8PrivateKey(priv)
		kb = &pem.Block{Type: "PRIVATE KEY", Bytes: raw}
	}
	return issued{
		cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), key: pem.EncodeToMemory(kb),
		tmpl: tmpl, priv: priv,
	}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestGetCertificate(t *testing.T) {
	dir := t.TempDir()
	m, err := New(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	ca := issue(t, "ca", nil, false)
	leaf := issue(t, "www.example.test", &ca, false)
	other := issue(t, "other", &ca, true)
	write := func(name string, b []byte) string {
		t.Helper()
		p := filepath.Join(m.Dir(), name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return "file://" + p
	}
	ctx := context.Background()

	// Key first, intermediate before the leaf: found by the key.
	ref := write("site/bundle.pem", cat(leaf.key, ca.cert, leaf.cert))
	c, err := m.GetCertificate(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if c.Ref != ref || c.PrimaryCN != "www.example.test" || !bytes.Equal(c.Certificate, leaf.cert) ||
		!bytes.Equal(c.PrivateKey, leaf.key) || len(c.Intermediates) != 1 || !bytes.Equal(c.Intermediates[0], ca.cert) {
		t.Fatalf("certificate = %+v", c)
	}
	if got := c.PEM(); !bytes.Equal(got, cat(leaf.cert, leaf.key, ca.cert)) {
		t.Fatalf("PEM order: %s", got)
	}
	sec1 := write("sec1.pem", cat(other.cert, other.key))
	if c, err := m.GetCertificate(ctx, sec1); err != nil || c.PrimaryCN != "other" || len(c.Intermediates) != 0 {
		t.Fatalf("SEC 1 key: %+v, %v", c, err)
	}
	if err := m.CheckCertificate(ctx, "file://localhost"+filepath.Join(m.Dir(), "sec1.pem")); err != nil {
		t.Fatalf("file://localhost/...: %v", err)
	}
	// A link inside the directory to a file inside is fine.
	if err := os.Symlink(filepath.Join(m.Dir(), "sec1.pem"), filepath.Join(m.Dir(), "link.pem")); err != nil {
		t.Fatal(err)
	}
	if err := m.CheckCertificate(ctx, "file://"+filepath.Join(m.Dir(), "link.pem")); err != nil {
		t.Fatalf("link inside: %v", err)
	}

	outside := filepath.Join(dir, "outside.pem")
	if err := os.WriteFile(outside, cat(leaf.cert, leaf.key), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(m.Dir(), "escape.pem")); err != nil {
		t.Fatal(err)
	}
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1, 2, 3}})
	tests := []struct {
		name string
		ref  string
		want error
		msg  string
	}{
		{"not a URL of a file", "https://barbican.example/v1/containers/x", ErrInvalidRef, "file:///"},
		{"a Barbican-style id", "1c2d3e4f-0000-4000-8000-000000000001", ErrInvalidRef, "file:///"},
		{"relative", "file:bundle.pem", ErrInvalidRef, "absolute"},
		{"another host", "file://example.com" + filepath.Join(m.Dir(), "sec1.pem"), ErrInvalidRef, ""},
		{"outside the directory", "file://" + outside, ErrInvalidRef, "not under"},
		{"dot-dot out of it", "file://" + m.Dir() + "/../outside.pem", ErrInvalidRef, "not under"},
		{"a link out of it", "file://" + filepath.Join(m.Dir(), "escape.pem"), ErrInvalidRef, "not under"},
		{"the directory itself", "file://" + m.Dir(), ErrInvalidRef, "not under"},
		{"missing", "file://" + filepath.Join(m.Dir(), "none.pem"), ErrNotFound, ""},
		{"a directory", "file://" + filepath.Join(m.Dir(), "site"), ErrNotFound, "regular file"},
		{"no key", write("nokey.pem", leaf.cert), ErrInvalidBundle, "no private key"},
		{"no certificate", write("nocert.pem", leaf.key), ErrInvalidBundle, "no certificate"},
		{"key of another certificate", write("mismatch.pem", cat(leaf.cert, other.key)), ErrInvalidBundle, "matches"},
		{"two keys", write("twokeys.pem", cat(leaf.cert, leaf.key, other.key)), ErrInvalidBundle, "more than one"},
		{"encrypted key", write("enc.pem", cat(leaf.cert, encrypted)), ErrInvalidBundle, "encrypted"},
		{"garbage certificate", write("garbage.pem", cat(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("x")}), leaf.key)), ErrInvalidBundle, "certificate 1"},
		{"not PEM", write("text.pem", []byte("hello")), ErrInvalidBundle, "no private key"},
		{"too large", write("big.pem", bytes.Repeat([]byte("a"), MaxBundle+1)), ErrInvalidBundle, "larger"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.GetCertificate(ctx, tc.ref)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tc.want, tc.msg)
			}
		})
	}
	// Secrets: the file as it is, under the same reference rules.
	caRef := write("ca.pem", ca.cert)
	if got, err := m.GetSecret(ctx, caRef); err != nil || !bytes.Equal(got, ca.cert) {
		t.Fatalf("GetSecret = %q, %v", got, err)
	}
	if _, err := m.GetSecret(ctx, "file://"+outside); !errors.Is(err, ErrInvalidRef) {
		t.Fatalf("GetSecret outside: %v", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.GetCertificate(canceled, ref); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
	if _, err := New(""); err == nil {
		t.Fatal("New without a directory")
	}
}
