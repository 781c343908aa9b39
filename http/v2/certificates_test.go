package v2_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/http/server"
	v2 "github.com/octavia-es/octavia-es/http/v2"
	"github.com/octavia-es/octavia-es/projections"
)

// readable is a certificate manager holding some files: listener
// bundles (any content) and secrets.
type readable map[string][]byte

func (r readable) CheckCertificate(_ context.Context, ref string) error {
	if _, ok := r[ref]; ok {
		return nil
	}
	return errors.New("not found")
}

func (r readable) GetSecret(_ context.Context, ref string) ([]byte, error) {
	if b, ok := r[ref]; ok {
		return b, nil
	}
	return nil, errors.New("not found")
}

const good, good2 = "file:///certs/good.pem", "file:///certs/good2.pem"

// Client CA fixtures: a CA, a CRL it signed, one another CA signed.
const caRef, crlRef, foreignCRL, notPEM, keyPEM = "file:///certs/ca.pem", "file:///certs/crl.pem", "file:///certs/foreign-crl.pem",
	"file:///certs/text.pem", "file:///certs/key.pem"

func caAndCRL(t *testing.T) (ca, crl []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	crlDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1),
		ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(time.Hour)}, cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crlDER})
}

// localTLS: the local amphorae's capabilities with a certificate manager.
func localTLS(t *testing.T) envOption {
	ca, crl := caAndCRL(t)
	_, foreign := caAndCRL(t)
	return func(cfg *server.Config, d *v2.Deps) {
		localCaps(cfg, d)
		cfg.V2.Capabilities.Certificates = readable{good: nil, good2: nil, caRef: ca, crlRef: crl, foreignCRL: foreign,
			notPEM: []byte("hello"), keyPEM: []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")}
	}
}

func poolBody(extra string) string {
	return `{"pool": {"loadbalancer_id": "` + lbID + `", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "tls_enabled": true` + extra + `}}`
}

func TestTLSReferencesAreChecked(t *testing.T) {
	https := func(extra string) string {
		return listenerBody(`, "protocol": "TERMINATED_HTTPS"` + extra)
	}
	tests := []struct {
		name, method, path, body string
		status                   int
		fault                    string
	}{
		{"readable default", "POST", "/v2/lbaas/listeners", https(`, "default_tls_container_ref": "` + good + `"`), 201, ""},
		{"readable SNI only", "POST", "/v2/lbaas/listeners", https(`, "sni_container_refs": ["` + good + `", "` + good2 + `"]`), 201, ""},
		{"unreadable default", "POST", "/v2/lbaas/listeners", https(`, "default_tls_container_ref": "file:///certs/none.pem"`),
			400, "Could not retrieve certificate: ['file:///certs/none.pem']"},
		{"SNI first, then the default", "POST", "/v2/lbaas/listeners",
			https(`, "default_tls_container_ref": "file:///d.pem", "sni_container_refs": ["file:///s.pem", "` + good + `"]`),
			400, "Could not retrieve certificate: ['file:///s.pem', 'file:///d.pem']"},
		{"in a load balancer graph", "POST", "/v2/lbaas/loadbalancers",
			`{"loadbalancer": {"vip_subnet_id": "` + subnetID + `", "listeners": [{"protocol": "TERMINATED_HTTPS", "protocol_port": 443, "default_tls_container_ref": "barbican-id"}]}}`,
			400, "Could not retrieve certificate: ['barbican-id']"},
		{"client authentication", "POST", "/v2/lbaas/listeners",
			https(`, "default_tls_container_ref": "` + good + `", "client_ca_tls_container_ref": "` + caRef + `", "client_crl_container_ref": "` + crlRef + `", "client_authentication": "MANDATORY"`), 201, ""},
		{"unreadable client CA and CRL", "POST", "/v2/lbaas/listeners",
			https(`, "default_tls_container_ref": "` + good + `", "client_ca_tls_container_ref": "file:///x", "client_crl_container_ref": "file:///y"`),
			400, "Could not retrieve certificate: ['file:///x', 'file:///y']"},
		{"client CA not PEM", "POST", "/v2/lbaas/listeners",
			https(`, "default_tls_container_ref": "` + good + `", "client_ca_tls_container_ref": "` + notPEM + `"`),
			400, "Validation failure: The client authentication CA certificate is invalid. It must be a valid x509 PEM format certificate. Error: no PEM data found"},
		{"client CA a key", "POST", "/v2/lbaas/listeners",
			https(`, "default_tls_container_ref": "` + good + `", "client_ca_tls_container_ref": "` + keyPEM + `"`),
			400, "Validation failure: The client authentication CA certificate is invalid. It must be a valid x509 PEM format certificate. Error: PEM block of type \"PRIVATE KEY\", want \"CERTIFICATE\""},
		{"CRL not a CRL", "POST", "/v2/lbaas/listeners",
			https(`, "default_tls_container_ref": "` + good + `", "client_ca_tls_container_ref": "` + caRef + `", "client_crl_container_ref": "` + caRef + `"`),
			400, "Validation failure: The client authentication certificate revocation list is invalid. It must be a valid x509 PEM format certificate revocation list. Error: PEM block of type \"CERTIFICATE\", want \"X509 CRL\""},
		{"CRL of another CA", "POST", "/v2/lbaas/listeners",
			https(`, "default_tls_container_ref": "` + good + `", "client_ca_tls_container_ref": "` + caRef + `", "client_crl_container_ref": "` + foreignCRL + `"`),
			400, "Validation failure: The CRL specified is not valid for client certificate authority reference supplied."},
		{"pool certificates", "POST", "/v2/lbaas/pools", poolBody(`, "tls_container_ref": "` + good + `", "ca_tls_container_ref": "` + caRef + `", "crl_container_ref": "` + crlRef + `"`), 201, ""},
		{"pool client certificate unreadable", "POST", "/v2/lbaas/pools", poolBody(`, "tls_container_ref": "file:///x"`),
			400, "Could not retrieve certificate: ['file:///x']"},
		{"pool CA not PEM", "POST", "/v2/lbaas/pools", poolBody(`, "ca_tls_container_ref": "` + notPEM + `"`),
			400, "Validation failure: The client authentication CA certificate is invalid. It must be a valid x509 PEM format certificate. Error: no PEM data found"},
		{"pool CRL of another CA", "POST", "/v2/lbaas/pools", poolBody(`, "ca_tls_container_ref": "` + caRef + `", "crl_container_ref": "` + foreignCRL + `"`),
			400, "Validation failure: The CRL specified is not valid for client certificate authority reference supplied."},
		{"pool in a load balancer graph", "POST", "/v2/lbaas/loadbalancers",
			`{"loadbalancer": {"vip_subnet_id": "` + subnetID + `", "pools": [{"name": "p", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "tls_enabled": true, "tls_container_ref": "file:///y"}]}}`,
			400, "Could not retrieve certificate: ['file:///y']"},
		{"pool CA on update", "PUT", "/v2/lbaas/pools/" + poolID, `{"pool": {"ca_tls_container_ref": "` + caRef + `"}}`, 200, ""},
		{"pool CA on update unreadable", "PUT", "/v2/lbaas/pools/" + poolID, `{"pool": {"ca_tls_container_ref": "file:///z"}}`,
			400, "Could not retrieve certificate: ['file:///z']"},
		{"pool client certificate on update unreadable", "PUT", "/v2/lbaas/pools/" + poolID, `{"pool": {"tls_container_ref": "file:///w"}}`,
			400, "Could not retrieve certificate: ['file:///w']"},
		{"update to a readable default", "PUT", "/v2/lbaas/listeners/" + listID, `{"listener": {"default_tls_container_ref": "` + good2 + `"}}`, 200, ""},
		{"update to an unreadable default", "PUT", "/v2/lbaas/listeners/" + listID, `{"listener": {"default_tls_container_ref": "x"}}`,
			400, "Could not retrieve certificate: ['x']"},
		{"update with a client CA", "PUT", "/v2/lbaas/listeners/" + listID, `{"listener": {"client_ca_tls_container_ref": "` + caRef + `", "client_authentication": "OPTIONAL"}}`, 200, ""},
		{"update with a client CA not PEM", "PUT", "/v2/lbaas/listeners/" + listID, `{"listener": {"client_ca_tls_container_ref": "` + notPEM + `"}}`,
			400, "Validation failure: The client authentication CA certificate is invalid. It must be a valid x509 PEM format certificate. Error: no PEM data found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, localTLS(t))
			e.activeGraph()
			// The graph's listener terminates TLS with a readable certificate.
			l := e.state().Listeners[listID]
			l.Spec.Protocol, l.Spec.DefaultTLSContainerRef = "TERMINATED_HTTPS", ptr(good)
			e.read.Listeners[listID], _ = projections.RenderListener(e.state(), listID)
			before := e.cmds.CallCount()
			r := e.do(tt.method, tt.path, tt.body)
			if tt.fault == "" {
				r.expectStatus(tt.status)
				return
			}
			r.expectFault(tt.status, tt.fault)
			if n := e.cmds.CallCount(); n != before {
				t.Errorf("%d commands executed, want none", n-before)
			}
			if allocated, released := e.vips.Counts(); allocated != released {
				t.Errorf("VIPs allocated %d, released %d", allocated, released)
			}
		})
	}
}

// Without a certificate manager (noop drivers), references are not
// checked, as with Octavia's noop setup.
func TestTLSReferencesUncheckedWithoutManager(t *testing.T) {
	e := newEnv(t)
	e.activeGraph()
	e.do(http.MethodPost, "/v2/lbaas/listeners", listenerBody(`, "protocol": "TERMINATED_HTTPS", "default_tls_container_ref": "anything",
		"client_ca_tls_container_ref": "ca"`)).expectStatus(http.StatusCreated)
	e.do(http.MethodPost, "/v2/lbaas/pools", poolBody(`, "tls_container_ref": "x", "ca_tls_container_ref": "y"`)).expectStatus(http.StatusCreated)
}

// As Octavia's put: the client CA and CRL the listener has are checked
// again whatever the PUT changes, and a CRL given alone is checked
// against the stored CA.
func TestListenerUpdateChecksStoredClientCA(t *testing.T) {
	for _, tc := range []struct {
		name, storedCA, body, fault string
	}{
		{"stored CA gone", "file:///certs/gone.pem", `{"listener": {"name": "renamed"}}`, "Could not retrieve certificate: ['file:///certs/gone.pem']"},
		{"new CRL of another CA", caRef, `{"listener": {"client_crl_container_ref": "` + foreignCRL + `"}}`,
			"Validation failure: The CRL specified is not valid for client certificate authority reference supplied."},
		{"new CRL of the stored CA", caRef, `{"listener": {"client_crl_container_ref": "` + crlRef + `"}}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, localTLS(t))
			e.activeGraph()
			l := e.state().Listeners[listID]
			l.Spec.Protocol, l.Spec.DefaultTLSContainerRef, l.Spec.ClientCATLSContainerRef = "TERMINATED_HTTPS", ptr(good), ptr(tc.storedCA)
			e.read.Listeners[listID], _ = projections.RenderListener(e.state(), listID)
			r := e.do(http.MethodPut, "/v2/lbaas/listeners/"+listID, tc.body)
			if tc.fault == "" {
				r.expectStatus(http.StatusOK)
				return
			}
			r.expectFault(http.StatusBadRequest, tc.fault)
		})
	}
}

// As Octavia's _validate_pool_PUT: a PUT checks the CA the pool has (with
// the CRL it sets or has), unless it clears the CA.
func TestPoolUpdateChecksStoredCA(t *testing.T) {
	for _, tc := range []struct {
		name, body, fault string
	}{
		{"stored CA gone", `{"pool": {"name": "renamed"}}`, "Could not retrieve certificate: ['file:///certs/gone.pem']"},
		{"new CRL against the stored CA", `{"pool": {"crl_container_ref": "` + crlRef + `"}}`, "Could not retrieve certificate: ['file:///certs/gone.pem']"},
		{"CA replaced", `{"pool": {"ca_tls_container_ref": "` + caRef + `"}}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, localTLS(t))
			e.activeGraph()
			pl := e.state().Pools[poolID]
			pl.Spec.TLSEnabled, pl.Spec.CATLSContainerRef = true, ptr("file:///certs/gone.pem")
			e.read.Pools[poolID], _ = projections.RenderPool(e.state(), poolID)
			r := e.do(http.MethodPut, "/v2/lbaas/pools/"+poolID, tc.body)
			if tc.fault == "" {
				r.expectStatus(http.StatusOK)
				return
			}
			r.expectFault(http.StatusBadRequest, tc.fault)
		})
	}
}
