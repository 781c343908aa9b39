package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
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
)

// selfSigned writes a PEM bundle (key, then certificate) for name into
// dir and returns its file:// reference and the certificate.
func selfSigned(t *testing.T, dir, file, name string) (string, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	b := append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	path := filepath.Join(dir, file)
	noErr(t, "write bundle", os.WriteFile(path, b, 0o600))
	return "file://" + path, cert
}

// TestAmphoraTerminatedHTTPS: a TERMINATED_HTTPS listener whose
// certificate is a PEM bundle in the controller's certificate directory:
// HTTPS through the VIP, verified against that certificate; the member
// gets the headers insert_headers asks for (X-Forwarded-Proto https, the
// client's address, the X-SSL-* of a client without a certificate); a new
// certificate on update is served; client certificates against a client
// CA (OPTIONAL: the member sees who, MANDATORY with a CRL: none and the
// revoked are refused); references the manager cannot read are refused.
func TestAmphoraTerminatedHTTPS(t *testing.T) {
	t.Parallel()
	srv := startLocalServer(t)
	c := newRawClient(srv.URL, "p-tls")
	one := startBackend(t, "one")
	store := filepath.Join(srv.dataDir, "certificates") // the embedded default storage_path
	ref, cert := selfSigned(t, store, "www.pem", "www.example.test")

	listener := map[string]any{
		"name": "tls", "protocol": "TERMINATED_HTTPS", "protocol_port": listenerPort, "default_tls_container_ref": ref,
		"insert_headers": map[string]any{
			"X-Forwarded-For": "true", "X-Forwarded-Proto": "true", "X-SSL-Client-Verify": "true", "X-SSL-Client-Has-Cert": "true",
		},
		"default_pool": httpPool("tls-pool", "ROUND_ROBIN", one),
	}
	s := createStack(t, c, listener)
	waitOperating(t, c, s.lb, waitTimeout, s.allOnline())

	get := func(serverName string, roots *x509.CertPool) (*http.Response, map[string][]string) {
		t.Helper()
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
			TLSClientConfig: &tls.Config{ServerName: serverName, RootCAs: roots, MinVersion: tls.VersionTLS12}}}
		resp, err := hc.Get("https://" + net.JoinHostPort(s.vip, strconv.Itoa(listenerPort)) + "/headers")
		noErr(t, "HTTPS through the VIP", err)
		defer resp.Body.Close()
		var h map[string][]string
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &h) != nil {
			t.Fatalf("HTTPS answer %d %s", resp.StatusCode, b)
		}
		return resp, h
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	resp, h := get("www.example.test", roots) // verified: the chain and the name
	var err error
	if p := resp.TLS.NegotiatedProtocol; p != "" && p != "http/1.1" {
		t.Errorf("ALPN %q", p)
	}
	want := map[string]string{"X-Forwarded-Proto": "https", "X-Ssl-Client-Verify": "0", "X-Ssl-Client-Has-Cert": "0"}
	for k, v := range want {
		if got := h[k]; len(got) != 1 || got[0] != v {
			t.Errorf("member got %s %v, want %q (all: %v)", k, got, v, h)
		}
	}
	if xff := h["X-Forwarded-For"]; len(xff) != 1 || net.ParseIP(xff[0]) == nil || !net.ParseIP(xff[0]).IsLoopback() {
		t.Errorf("X-Forwarded-For %v, want the client's loopback address", xff)
	}
	// Plain HTTP on the TLS port gets no answer a client could take for one.
	if _, err := newVIPClient(s.vip, listenerPort).get("/"); err == nil {
		t.Error("plain HTTP answered on the TERMINATED_HTTPS port")
	}

	// A new certificate on update: served once ACTIVE again.
	ref2, cert2 := selfSigned(t, store, "www2.pem", "www2.example.test")
	r := c.do(t, request{Method: http.MethodPut, Path: "/v2/lbaas/listeners/" + s.listeners["tls"],
		Body: mustJSON(t, map[string]any{"listener": map[string]any{"default_tls_container_ref": ref2}})})
	mustStatus(t, "update listener certificate", r, http.StatusOK)
	waitActive(t, c, s.lb)
	roots2 := x509.NewCertPool()
	roots2.AddCert(cert2)
	if resp, _ := get("www2.example.test", roots2); resp.TLS.PeerCertificates[0].Subject.CommonName != "www2.example.test" {
		t.Fatalf("after the update: served %s", resp.TLS.PeerCertificates[0].Subject.CommonName)
	}

	// Client certificates: OPTIONAL, then MANDATORY with a revocation list.
	ca := certtest.NewCA(t)
	caRef := writeRef(t, ca, store, "clients-ca.PEM", ca.PEM)
	alice, mallory := ca.Client(t, "alice", 10), ca.Client(t, "mallory", 11)
	update := func(l map[string]any) {
		t.Helper()
		r := c.do(t, request{Method: http.MethodPut, Path: "/v2/lbaas/listeners/" + s.listeners["tls"],
			Body: mustJSON(t, map[string]any{"listener": l})})
		mustStatus(t, "update listener", r, http.StatusOK)
		waitActive(t, c, s.lb)
	}
	update(map[string]any{"client_ca_tls_container_ref": caRef, "client_authentication": "OPTIONAL",
		"insert_headers": map[string]any{"X-Forwarded-Proto": "true", "X-SSL-Client-Verify": "true", "X-SSL-Client-Has-Cert": "true",
			"X-SSL-Client-CN": "true", "X-SSL-Client-DN": "true", "X-SSL-Issuer": "true"}})
	withCert := func(certs ...tls.Certificate) (map[string][]string, error) {
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
			TLSClientConfig: &tls.Config{ServerName: "www2.example.test", RootCAs: roots2, Certificates: certs, MinVersion: tls.VersionTLS12}}}
		resp, err := hc.Get("https://" + net.JoinHostPort(s.vip, strconv.Itoa(listenerPort)) + "/headers")
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var h map[string][]string
		if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
			return nil, err
		}
		return h, nil
	}
	h, err = withCert(alice)
	noErr(t, "OPTIONAL, with a client certificate", err)
	for k, v := range map[string]string{"X-Ssl-Client-Verify": "0", "X-Ssl-Client-Has-Cert": "1", "X-Ssl-Client-Cn": "alice",
		"X-Ssl-Client-Dn": "/CN=alice", "X-Ssl-Issuer": "/CN=clients CA", "X-Forwarded-Proto": "https"} {
		if got := h[k]; len(got) != 1 || got[0] != v {
			t.Errorf("with alice's certificate the member got %s %v, want %q", k, got, v)
		}
	}
	h, err = withCert()
	noErr(t, "OPTIONAL, without a client certificate", err)
	if got := h["X-Ssl-Client-Has-Cert"]; len(got) != 1 || got[0] != "0" {
		t.Errorf("without a certificate: X-SSL-Client-Has-Cert %v", got)
	}
	crlRef := writeRef(t, ca, store, "clients-crl.pem", ca.CRL(t, 11))
	update(map[string]any{"client_authentication": "MANDATORY", "client_crl_container_ref": crlRef})
	if _, err := withCert(alice); err != nil {
		t.Errorf("MANDATORY: alice refused: %v", err)
	}
	if _, err := withCert(); err == nil {
		t.Error("MANDATORY: admitted without a certificate")
	}
	if _, err := withCert(mallory); err == nil {
		t.Error("MANDATORY: admitted mallory, whose certificate the CRL revokes")
	}

	// Refusals: nothing recorded, the listener keeps serving.
	outside, _ := selfSigned(t, t.TempDir(), "outside.pem", "outside.example.test")
	missing := "file://" + filepath.Join(store, "missing.pem")
	for _, tc := range []struct {
		name  string
		body  map[string]any
		fault string // of a 400
	}{
		{"unreadable reference", map[string]any{"protocol": "TERMINATED_HTTPS", "default_tls_container_ref": missing},
			"Could not retrieve certificate: ['" + missing + "']"},
		{"outside the certificate directory", map[string]any{"protocol": "TERMINATED_HTTPS", "default_tls_container_ref": outside},
			"Could not retrieve certificate: ['" + outside + "']"},
		{"a CRL of another CA", map[string]any{"protocol": "TERMINATED_HTTPS", "default_tls_container_ref": ref,
			"client_ca_tls_container_ref": caRef, "client_crl_container_ref": writeRef(t, certtest.NewCA(t), store, "other-crl.pem", nil)},
			"Validation failure: The CRL specified is not valid for client certificate authority reference supplied."},
	} {
		l := tc.body
		l["loadbalancer_id"], l["protocol_port"] = s.lb, listenerPort+1
		r := c.do(t, request{Method: http.MethodPost, Path: "/v2/lbaas/listeners", Body: mustJSON(t, map[string]any{"listener": l})})
		wantFault(t, tc.name, r, http.StatusBadRequest, tc.fault)
	}
	pool := map[string]any{"loadbalancer_id": s.lb, "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "tls_enabled": true, "tls_container_ref": missing}
	r = c.do(t, request{Method: http.MethodPost, Path: "/v2/lbaas/pools", Body: mustJSON(t, map[string]any{"pool": pool})})
	wantFault(t, "pool with an unreadable client certificate", r, 400, "Could not retrieve certificate: ['"+missing+"']")
	if lb := objectAt(t, c.get(t, "/v2/lbaas/loadbalancers/"+s.lb), "loadbalancer"); lb["provisioning_status"] != "ACTIVE" {
		t.Fatalf("load balancer after refusals: %v", lb)
	}
	if _, err := withCert(alice); err != nil {
		t.Fatalf("after the refusals: %v", err)
	}
}

// write stores content (an empty revocation list of ca when nil) in dir
// and returns its file:// reference.
func writeRef(t *testing.T, ca certtest.CA, dir, name string, content []byte) string {
	t.Helper()
	if content == nil {
		content = ca.CRL(t)
	}
	path := filepath.Join(dir, name)
	noErr(t, "write "+name, os.WriteFile(path, content, 0o600))
	return "file://" + path
}

// TestAmphoraPoolCertificates: a tls_enabled pool re-encrypts to members
// that require a client certificate, presenting the pool's
// (tls_container_ref), and verifies theirs against its CA
// (ca_tls_container_ref): with a CA that did not sign the member, the
// member gets nothing.
func TestAmphoraPoolCertificates(t *testing.T) {
	t.Parallel()
	srv := startLocalServer(t)
	c := newRawClient(srv.URL, "p-pool-tls")
	store := filepath.Join(srv.dataDir, "certificates")
	clients, members, other := certtest.NewCA(t), certtest.NewCA(t), certtest.NewCA(t)
	port := startTLSMember(t, members.Server(t), clients.Cert)
	poolCert := clients.Client(t, "the-pool", 20)
	certRef := writeRef(t, clients, store, "pool-client.pem", certtest.Bundle(t, poolCert))
	membersCA := writeRef(t, members, store, "members-ca.PEM", members.PEM)

	pool := map[string]any{"name": "tls-pool", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "tls_enabled": true,
		"tls_container_ref": certRef, "ca_tls_container_ref": membersCA,
		"members": []any{map[string]any{"address": "127.0.0.1", "protocol_port": port, "name": "secure"}}}
	s := createStack(t, c, map[string]any{"name": "web", "protocol": "HTTP", "protocol_port": listenerPort, "default_pool": pool})
	vip := newVIPClient(s.vip, listenerPort)
	vip.waitServing(t)
	if got, err := vip.get("/"); err != nil || got != "client=the-pool" {
		t.Fatalf("through the verified member: %q, %v", got, err)
	}

	r := c.do(t, request{Method: http.MethodPut, Path: "/v2/lbaas/pools/" + s.pools["tls-pool"],
		Body: mustJSON(t, map[string]any{"pool": map[string]any{"ca_tls_container_ref": writeRef(t, other, store, "other-ca.PEM", other.PEM)}})})
	mustStatus(t, "update pool CA", r, http.StatusOK)
	waitActive(t, c, s.lb)
	if got, err := vip.get("/"); err == nil {
		t.Fatalf("a member the pool's CA did not sign answered %q", got)
	}
}

// startTLSMember is a member serving HTTPS with cert that requires a client
// certificate signed by clientCA and answers its CN.
func startTLSMember(t *testing.T, cert tls.Certificate, clientCA *x509.Certificate) int {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(clientCA)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12,
	})
	noErr(t, "listen", err)
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "client="+r.TLS.PeerCertificates[0].Subject.CommonName)
	})}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}
