package agent

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5" //nolint:gosec // Octavia's ETag
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned is a PEM bundle (certificate, key) for cn.
func selfSigned(t *testing.T, cn string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(key)
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})...)
}

func certPath(name string) string {
	return "/1.0/loadbalancer/" + testAmp + "/" + testLB + "/certificates/" + name
}

// tlsConfig is lbConfig with the frontend terminating TLS with the named
// certificate files (the first is the default).
func tlsConfig(port, member int, certs ...string) []byte {
	p := ConfigPaths()
	crt := ""
	for _, c := range certs {
		crt += " crt " + CertPath(c)
	}
	return []byte(fmt.Sprintf(`global
    master-worker
    stats socket %s mode 600 level admin expose-fd listeners
    maxconn 2000

defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend %s
    bind 127.0.0.1:%d ssl%s
    default_backend %s:%s

backend %s:%s
    http-request set-header X-Forwarded-Proto https
    server %s 127.0.0.1:%d
`, p.StatsSocket, testL1, port, crt, testP1, testL1, testP1, testL1, testM1, member))
}

// TestAgentCertificates: Octavia's certificate upload, then HAProxy
// serving TLS with it (SNI picks among several); a configuration that no
// longer names a file removes it.
func TestAgentCertificates(t *testing.T) {
	requireHAProxy(t)
	base := deepTempDir(t)
	a := startAgent(t, base, newPKI(t, base), nil)
	b1 := startBackend(t, "one")
	port := freePort(t)
	def, other := selfSigned(t, "default.example.test"), selfSigned(t, "other.example.test")

	refused := []struct {
		name, path string
		body       []byte
		want       string
	}{
		{"no .pem", certPath("bundle.crt"), def, "want <name>.pem"},
		{"dot file", certPath(".hidden.pem"), def, "want <name>.pem"},
		{"escaping name", certPath("..%2Fx.pem"), def, "want <name>.pem"},
		{"not PEM", certPath("x.pem"), []byte("hello"), "not a PEM file"},
		{"another amphora", "/1.0/loadbalancer/someone-else/" + testLB + "/certificates/x.pem", def, "this is amphora"},
		{"bad load balancer id", "/1.0/loadbalancer/" + testAmp + "/..%2Fup/certificates/x.pem", def, "invalid load balancer id"},
	}
	for _, tc := range refused {
		v := a.mustCall(t, "PUT", tc.path, tc.body, http.StatusBadRequest)
		if d, _ := v["details"].(string); !strings.Contains(d, tc.want) {
			t.Errorf("%s: answer %v, want details mentioning %q", tc.name, v, tc.want)
		}
	}

	for name, b := range map[string][]byte{"default.pem": def, "other.pem": other} {
		code, body, h := a.callH(t, "PUT", certPath(name), b)
		sum := md5.Sum(b) //nolint:gosec
		if code != http.StatusOK || !strings.Contains(string(body), `"message":"OK"`) || h.Get("ETag") != hex.EncodeToString(sum[:]) {
			t.Fatalf("upload %s = %d %s ETag %q", name, code, body, h.Get("ETag"))
		}
		if got := a.mustCall(t, "GET", lbPath+"/certificates/"+name, nil, http.StatusOK)["md5sum"]; got != hex.EncodeToString(sum[:]) {
			t.Fatalf("md5sum of %s = %v", name, got)
		}
	}
	certDir := filepath.Join(LBPaths(a.cfg.BaseDir, testLB).Dir, certDirName)
	if st, err := os.Stat(filepath.Join(certDir, "default.pem")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("default.pem: %v, %v", st, err)
	}
	if v := a.mustCall(t, "GET", lbPath+"/certificates/none.pem", nil, http.StatusNotFound); v["message"] != "Certificate Not Found" {
		t.Fatalf("missing certificate: %v", v)
	}

	a.mustCall(t, "PUT", uploadPath("1"), tlsConfig(port, b1.port, "default.pem", "other.pem"), http.StatusAccepted)
	a.mustCall(t, "PUT", lbPath+"/start", nil, http.StatusAccepted)
	served := func(serverName string) string {
		t.Helper()
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			DisableKeepAlives: true,
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true, ServerName: serverName}, //nolint:gosec // reads the certificate served
		}}
		resp, err := hc.Get(fmt.Sprintf("https://127.0.0.1:%d/", port))
		if err != nil {
			t.Fatalf("HTTPS with SNI %q: %v", serverName, err)
		}
		defer resp.Body.Close()
		if b, _ := io.ReadAll(resp.Body); string(b) != "one" {
			t.Fatalf("answer %q", b)
		}
		return resp.TLS.PeerCertificates[0].Subject.CommonName
	}
	if cn := served("other.example.test"); cn != "other.example.test" {
		t.Fatalf("SNI other.example.test served %s", cn)
	}
	if cn := served("unknown.example.test"); cn != "default.example.test" {
		t.Fatalf("an unknown name served %s, want the default certificate", cn)
	}

	// The next configuration names only the default: the other file goes.
	a.mustCall(t, "PUT", uploadPath("2"), tlsConfig(port, b1.port, "default.pem"), http.StatusAccepted)
	a.mustCall(t, "PUT", lbPath+"/reload", nil, http.StatusAccepted)
	if _, err := os.Stat(filepath.Join(certDir, "other.pem")); !os.IsNotExist(err) {
		t.Fatalf("other.pem after a configuration without it: %v", err)
	}
	if cn := served("other.example.test"); cn != "default.example.test" {
		t.Fatalf("after the reload, SNI other.example.test served %s", cn)
	}
	a.mustCall(t, "DELETE", lbPath+"/certificates/default.pem", nil, http.StatusOK)
	a.mustCall(t, "DELETE", lbPath+"/certificates/default.pem", nil, http.StatusOK) // idempotent
	a.mustCall(t, "GET", lbPath+"/certificates/default.pem", nil, http.StatusNotFound)
}
