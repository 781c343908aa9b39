package rest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"github.com/octavia-es/octavia-es/adapters/certificates/certtest"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/amphora"
	"github.com/octavia-es/octavia-es/adapters/amphora/amphoratest"
	"github.com/octavia-es/octavia-es/adapters/amphora/haproxy"
	"github.com/octavia-es/octavia-es/adapters/certificates/files"
)

func bundle(t *testing.T, cn string) []byte {
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
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	return append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
}

// echo answers the X-Forwarded-Proto it got.
func echo(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "proto="+r.Header.Get("X-Forwarded-Proto"))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// TestTerminatedHTTPS: the driver uploads the listeners' certificates
// from the certificate manager and HAProxy terminates TLS with them; a
// renewed file is served after the next push; a reference the manager
// cannot read fails the push.
func TestTerminatedHTTPS(t *testing.T) {
	requireHAProxy(t)
	c := newController(t)
	store, err := files.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c.drv.opts.Certificates = store
	amp, base := c.bootAmphora(t, "6c7d8e9f-0000-4000-8000-0000000000f5")
	ctx := context.Background()
	write := func(name string, b []byte) string {
		p := filepath.Join(store.Dir(), name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return "file://" + p
	}
	defRef, sniRef := write("default.pem", bundle(t, "one.example.test")), write("sni.pem", bundle(t, "two.example.test"))
	port := freePort(t, amphoratest.VIP.Address)
	graph := func(version int64, refs ...string) amphora.Config {
		cfg := amphoratest.Graph(version, port)
		cfg.HealthMonitors = nil
		cfg.Members = cfg.Members[:1]
		cfg.Members[0].ProtocolPort = echo(t)
		l := &cfg.Listeners[0]
		l.Protocol, l.DefaultTLSContainerRef, l.SNIContainerRefs = "TERMINATED_HTTPS", &refs[0], refs[1:]
		l.InsertHeaders = map[string]string{"X-Forwarded-Proto": "true"}
		return cfg
	}
	served := func(serverName string) string {
		t.Helper()
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: serverName}}} //nolint:gosec // reads the certificate served
		resp, err := hc.Get("https://" + net.JoinHostPort(amphoratest.VIP.Address, strconv.Itoa(port)) + "/")
		if err != nil {
			t.Fatalf("HTTPS (SNI %s): %v", serverName, err)
		}
		defer resp.Body.Close()
		if b, _ := io.ReadAll(resp.Body); string(b) != "proto=https" {
			t.Fatalf("backend saw %q", b)
		}
		return resp.TLS.PeerCertificates[0].Subject.CommonName
	}

	if err := c.drv.PlugVIP(ctx, amp, amphoratest.VIP); err != nil {
		t.Fatal(err)
	}
	if err := c.drv.UpdateConfig(ctx, amp, graph(1, defRef, sniRef)); err != nil {
		t.Fatal(err)
	}
	if cn := served("two.example.test"); cn != "two.example.test" {
		t.Fatalf("SNI two.example.test: served %s", cn)
	}
	if cn := served("else.example.test"); cn != "one.example.test" {
		t.Fatalf("default: served %s", cn)
	}
	certDir := filepath.Join(base, amphoratest.Graph(0, 0).LoadBalancer.ID, "certificates")
	if ents, _ := os.ReadDir(certDir); len(ents) != 2 {
		t.Fatalf("certificate files %v, want 2", ents)
	}

	// Renewed in place: the next push serves it, the old file goes.
	write("default.pem", bundle(t, "one-renewed.example.test"))
	if err := c.drv.UpdateConfig(ctx, amp, graph(2, defRef)); err != nil {
		t.Fatal(err)
	}
	if cn := served("one.example.test"); cn != "one-renewed.example.test" {
		t.Fatalf("after renewal: served %s", cn)
	}
	if ents, _ := os.ReadDir(certDir); len(ents) != 1 {
		t.Fatalf("certificate files after the push %v, want 1", ents)
	}

	missing := "file://" + filepath.Join(store.Dir(), "gone.pem")
	if err := c.drv.UpdateConfig(ctx, amp, graph(3, missing)); !errors.Is(err, files.ErrNotFound) {
		t.Fatalf("missing certificate: %v", err)
	}
	noSource, err := New(Options{ClientCert: c.drv.opts.ClientCert, RootCAs: c.drv.opts.RootCAs, Log: quiet(),
		Render: HAProxyRenderer(haproxy.Options{MaxConn: 2000, NbThread: 1})})
	if err != nil {
		t.Fatal(err)
	}
	if err := noSource.UpdateConfig(ctx, amp, graph(4, defRef)); !errors.Is(err, haproxy.ErrCertificateUnavailable) {
		t.Fatalf("without a certificate source: %v", err)
	}
	if cn := served("one.example.test"); cn != "one-renewed.example.test" {
		t.Fatalf("failed pushes changed what is served: %s", cn)
	}
}

// TestClientCertificateAuthentication: the client CA and its revocation
// list go to the agent with the listener's certificate; HAProxy admits
// the clients the CA signed and the list does not revoke.
func TestClientCertificateAuthentication(t *testing.T) {
	requireHAProxy(t)
	c := newController(t)
	store, err := files.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c.drv.opts.Certificates = store
	amp, _ := c.bootAmphora(t, "6c7d8e9f-0000-4000-8000-0000000000f6")
	ctx := context.Background()
	write := func(name string, b []byte) string {
		p := filepath.Join(store.Dir(), name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return "file://" + p
	}
	ca := certtest.NewCA(t)
	good, revoked := ca.Client(t, "good-client", 10), ca.Client(t, "revoked-client", 11)
	port := freePort(t, amphoratest.VIP.Address)
	cfg := amphoratest.Graph(1, port)
	cfg.HealthMonitors = nil
	cfg.Members = cfg.Members[:1]
	cfg.Members[0].ProtocolPort = echo(t)
	l := &cfg.Listeners[0]
	l.Protocol, l.DefaultTLSContainerRef = "TERMINATED_HTTPS", ptrTo(write("server.pem", bundle(t, "lb.example.test")))
	l.ClientCATLSContainerRef, l.ClientCRLContainerRef = ptrTo(write("ca.PEM", ca.PEM)), ptrTo(write("crl.pem", ca.CRL(t, 11)))
	l.ClientAuthentication = "MANDATORY"
	l.InsertHeaders = map[string]string{"X-Forwarded-Proto": "true"}
	if err := c.drv.PlugVIP(ctx, amp, amphoratest.VIP); err != nil {
		t.Fatal(err)
	}
	if err := c.drv.UpdateConfig(ctx, amp, cfg); err != nil {
		t.Fatal(err)
	}
	call := func(certs ...tls.Certificate) error {
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true, Certificates: certs}}} //nolint:gosec // the server's certificate is not the point
		resp, err := hc.Get("https://" + net.JoinHostPort(amphoratest.VIP.Address, strconv.Itoa(port)) + "/")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.ReadAll(resp.Body)
		return err
	}
	if err := call(good); err != nil {
		t.Fatalf("a client the CA signed: %v", err)
	}
	if err := call(); err == nil {
		t.Fatal("admitted without a client certificate")
	}
	if err := call(revoked); err == nil {
		t.Fatal("admitted a revoked client certificate")
	}
	if err := call(bundleCert(t)); err == nil {
		t.Fatal("admitted a certificate of another CA")
	}
}

func ptrTo(s string) *string { return &s }

// bundleCert is a self-signed client certificate (no CA knows it).
func bundleCert(t *testing.T) tls.Certificate {
	t.Helper()
	return certtest.NewCA(t).Client(t, "stranger", 12)
}

// TestPoolCertificates: a tls_enabled pool presents its client
// certificate to members that require one and verifies their certificates
// against its CA: a member the CA did not sign gets no traffic.
func TestPoolCertificates(t *testing.T) {
	requireHAProxy(t)
	c := newController(t)
	store, err := files.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c.drv.opts.Certificates = store
	amp, _ := c.bootAmphora(t, "6c7d8e9f-0000-4000-8000-0000000000f7")
	ctx := context.Background()
	write := func(name string, b []byte) string {
		p := filepath.Join(store.Dir(), name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return "file://" + p
	}
	clients, members, other := certtest.NewCA(t), certtest.NewCA(t), certtest.NewCA(t)
	pool := x509.NewCertPool()
	pool.AddCert(clients.Cert)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{members.Server(t)}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "client="+r.TLS.PeerCertificates[0].Subject.CommonName)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	port := freePort(t, amphoratest.VIP.Address)
	graph := func(version int64, caRef string) amphora.Config {
		cfg := amphoratest.Graph(version, port)
		cfg.HealthMonitors = nil
		cfg.Members = cfg.Members[:1]
		cfg.Members[0].ProtocolPort = ln.Addr().(*net.TCPAddr).Port
		p := &cfg.Pools[0]
		p.TLSEnabled = true
		p.TLSContainerRef = ptrTo(write("pool-client.pem", certtest.Bundle(t, clients.Client(t, "the-pool", 20))))
		p.CATLSContainerRef = ptrTo(caRef)
		return cfg
	}
	get := func() (string, int) {
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := hc.Get("http://" + net.JoinHostPort(amphoratest.VIP.Address, strconv.Itoa(port)) + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b), resp.StatusCode
	}
	if err := c.drv.PlugVIP(ctx, amp, amphoratest.VIP); err != nil {
		t.Fatal(err)
	}
	if err := c.drv.UpdateConfig(ctx, amp, graph(1, write("members-ca.PEM", members.PEM))); err != nil {
		t.Fatal(err)
	}
	if body, code := get(); code != http.StatusOK || body != "client=the-pool" {
		t.Fatalf("through a verified member: %d %q", code, body)
	}
	// The member's certificate is not signed by the pool's CA: refused.
	if err := c.drv.UpdateConfig(ctx, amp, graph(2, write("other-ca.PEM", other.PEM))); err != nil {
		t.Fatal(err)
	}
	if body, code := get(); code == http.StatusOK {
		t.Fatalf("a member the pool's CA did not sign got the request: %q", body)
	}
}
