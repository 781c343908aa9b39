package local

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func parse(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(certPEM)
	if b == nil {
		t.Fatal("no PEM block")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewCACreatesThenLoads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	ca, err := NewCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{CertFile, KeyFile} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %v, want 0600", name, fi.Mode().Perm())
		}
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode = %v, want 0700", fi.Mode().Perm())
	}
	c := parse(t, ca.CACertPEM())
	if !c.IsCA || c.NotAfter.Before(time.Now().Add(9*365*24*time.Hour)) {
		t.Fatalf("CA certificate: IsCA=%v NotAfter=%v", c.IsCA, c.NotAfter)
	}
	again, err := NewCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.CACertPEM(), ca.CACertPEM()) {
		t.Fatal("a second NewCA minted another CA instead of loading the first")
	}
	// What the first issued, the reloaded one verifies.
	certPEM, _, err := ca.IssueClient(context.Background(), "controller", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parse(t, certPEM).Verify(x509.VerifyOptions{Roots: again.CertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("reloaded CA does not verify: %v", err)
	}
}

func TestNewCARefusesBrokenState(t *testing.T) {
	good := t.TempDir()
	if _, err := NewCA(good); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	if _, err := NewCA(other); err != nil {
		t.Fatal(err)
	}
	read := func(dir, name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name       string
		cert, key  []byte // nil: file absent
		wantSubstr string
	}{
		{"key without certificate", nil, read(good, KeyFile), "no such file"},
		{"certificate without key", read(good, CertFile), nil, "no such file"},
		{"garbage certificate", []byte("garbage"), read(good, KeyFile), "no PEM certificate"},
		{"garbage key", read(good, CertFile), []byte("garbage"), "no PEM key"},
		{"key of another CA", read(good, CertFile), read(other, KeyFile), "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, b := range map[string][]byte{CertFile: tt.cert, KeyFile: tt.key} {
				if b != nil {
					if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
			_, err := NewCA(dir)
			if err == nil || !strings.Contains(err.Error(), tt.wantSubstr) {
				t.Fatalf("NewCA: err = %v, want one containing %q", err, tt.wantSubstr)
			}
		})
	}
}

func TestIssueServer(t *testing.T) {
	ca, err := NewCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const amp = "3f1e9a52-8c1d-4b7a-9e2f-5a6b7c8d9e01"
	certPEM, keyPEM, err := ca.IssueServer(context.Background(), amp, []string{"127.0.0.1", "::1", "amp.local", ""}, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Fatalf("certificate and key don't pair: %v", err)
	}
	c := parse(t, certPEM)
	if c.Subject.CommonName != amp || c.IsCA {
		t.Fatalf("subject %q IsCA %v", c.Subject.CommonName, c.IsCA)
	}
	if d := time.Until(c.NotAfter); d < 23*time.Hour || d > 25*time.Hour {
		t.Fatalf("NotAfter in %v, want about 24h", d)
	}
	serverAuth := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	for _, name := range []string{amp, "127.0.0.1", "::1", "amp.local"} {
		if _, err := c.Verify(x509.VerifyOptions{Roots: ca.CertPool(), DNSName: name, KeyUsages: serverAuth}); err != nil {
			t.Errorf("verify as %q: %v", name, err)
		}
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: ca.CertPool(), DNSName: "another-amphora", KeyUsages: serverAuth}); err == nil {
		t.Error("verified for another amphora's name")
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: ca.CertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("a server certificate verified as a client certificate")
	}
	other, err := NewCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: other.CertPool(), DNSName: amp, KeyUsages: serverAuth}); err == nil {
		t.Error("verified by an unrelated CA")
	}
}

func TestIssueRejectsBadInput(t *testing.T) {
	ca, err := NewCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := ca.IssueServer(ctx, "", nil, time.Hour); err == nil {
		t.Error("server certificate without an id")
	}
	if _, _, err := ca.IssueClient(ctx, "", time.Hour); err == nil {
		t.Error("client certificate without a name")
	}
	if _, _, err := ca.IssueClient(ctx, "c", 0); err == nil {
		t.Error("zero validity")
	}
	if _, _, err := ca.IssueClient(canceled, "c", time.Hour); err == nil {
		t.Error("canceled context")
	}
	certPEM, _, err := ca.IssueClient(ctx, "c", 2*CAValidity)
	if err != nil {
		t.Fatal(err)
	}
	if got, caEnd := parse(t, certPEM).NotAfter, parse(t, ca.CACertPEM()).NotAfter; got.After(caEnd) {
		t.Errorf("certificate valid until %v, after its CA (%v)", got, caEnd)
	}
}

// A TLS 1.2+ handshake with both certificates, each side trusting only the
// CA, as the controller and an agent do.
func TestMutualTLSHandshake(t *testing.T) {
	ca, err := NewCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const amp = "amp-1"
	sc, sk, err := ca.IssueServer(ctx, amp, []string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cc, ck, err := ca.IssueClient(ctx, "controller", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	serverCert, _ := tls.X509KeyPair(sc, sk)
	clientCert, _ := tls.X509KeyPair(cc, ck)
	handshake := func(client *tls.Config) error {
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		srv := tls.Server(a, &tls.Config{
			Certificates: []tls.Certificate{serverCert}, ClientCAs: ca.CertPool(),
			ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12,
		})
		done := make(chan error, 1)
		go func() {
			err := srv.Handshake()
			if err == nil {
				_, err = srv.Write([]byte("ok"))
			}
			srv.Close()
			done <- err
		}()
		cl := tls.Client(b, client)
		_, err := io.ReadAll(cl)
		serr := <-done
		if err != nil {
			return err
		}
		return serr
	}
	if err := handshake(&tls.Config{Certificates: []tls.Certificate{clientCert}, RootCAs: ca.CertPool(), ServerName: amp}); err != nil {
		t.Fatalf("mutual TLS: %v", err)
	}
	if err := handshake(&tls.Config{RootCAs: ca.CertPool(), ServerName: amp}); err == nil {
		t.Fatal("handshake without a client certificate succeeded")
	}
	if err := handshake(&tls.Config{Certificates: []tls.Certificate{clientCert}, RootCAs: ca.CertPool(), ServerName: "amp-2"}); err == nil {
		t.Fatal("handshake with another amphora's name succeeded")
	}
}
