package haproxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// haproxyBinary finds HAProxy: a test needing it is skipped on a developer
// machine without it, and fails in CI (CI=true), which installs it.
func haproxyBinary(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("haproxy")
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("haproxy is not installed (CI=true): apt-get install -y haproxy")
	}
	t.Skip("haproxy is not installed (apt-get install -y haproxy); skipped outside CI")
	return ""
}

// amphoraDir makes a working directory like the one goldenBase stands for:
// listener certificates, the ping wrapper, an empty state file.
func amphoraDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "certs"), 0o700); err != nil {
		t.Fatal(err)
	}
	pemBytes := selfSigned(t)
	for _, id := range []string{listenerID(1), listenerID(2), listenerID(3), listenerID(4), listenerID(5), "sni-a", "sni-b"} {
		if err := os.WriteFile(filepath.Join(dir, "certs", id+".pem"), pemBytes, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	caPEM, crlPEM := clientCA(t)
	for name, b := range map[string][]byte{"client-ca.pem": caPEM, "client-crl.pem": crlPEM} {
		if err := os.WriteFile(filepath.Join(dir, "certs", name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "ping-wrapper.sh"), PingWrapperScript(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "servers-state"), []byte("1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// selfSigned is a PEM certificate and key, as HAProxy's "crt" reads them.
func selfSigned(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lb.example.com"},
		DNSNames:  []string{"lb.example.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})...)
}

// clientCA is a CA certificate and an (empty) revocation list it signed,
// PEM, as HAProxy's ca-file and crl-file read them.
func clientCA(t *testing.T) (caPEM, crlPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "client CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:  x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(24 * time.Hour),
	}, ca, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl})
}

// haproxyCheck runs haproxy -c on a configuration and returns its output.
func haproxyCheck(t *testing.T, bin, file string) string {
	t.Helper()
	out, err := exec.Command(bin, "-c", "-f", file).CombinedOutput()
	if err != nil {
		t.Fatalf("haproxy -c -f %s: %v\n%s\n--- config\n%s", file, err, out, readFile(t, file))
	}
	return string(out)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// allowedWarnings: cases whose HAProxy warnings are expected. The API
// accepts HTTP_COOKIE on a TCP pool; Octavia renders it and HAProxy
// ignores it, saying so.
var allowedWarnings = map[string][]string{
	"persistence-http-cookie-tcp": {"cookie will be ignored", "ignoring cookie for server"},
}

// Every golden file is a configuration HAProxy accepts, without warnings.
func TestGoldenFilesPassHAProxyCheck(t *testing.T) {
	bin := haproxyBinary(t)
	dir := amphoraDir(t)
	files, err := filepath.Glob("testdata/*.golden")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files (%v)", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".golden")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := strings.ReplaceAll(readFile(t, f), goldenBase, dir)
			path := filepath.Join(dir, name+".cfg")
			if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			out := haproxyCheck(t, bin, path)
			allowed := 0
			for _, line := range strings.Split(out, "\n") {
				if !strings.Contains(line, "[WARNING]") && !strings.Contains(line, "[ALERT]") {
					continue
				}
				if !containsAny(line, allowedWarnings[name]) {
					t.Errorf("haproxy -c: %s\n%s", line, out)
				}
				allowed++
			}
			if len(allowedWarnings[name]) > 0 && allowed == 0 {
				t.Errorf("expected warnings %q are gone: update allowedWarnings", allowedWarnings[name])
			}
		})
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
