package v2_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/octavia-es/octavia-es/http/server"
	v2 "github.com/octavia-es/octavia-es/http/v2"
	"github.com/octavia-es/octavia-es/projections"
)

// readable is a certificate manager holding some references.
type readable map[string]bool

func (r readable) CheckCertificate(_ context.Context, ref string) error {
	if r[ref] {
		return nil
	}
	return errors.New("not found")
}

const good, good2 = "file:///certs/good.pem", "file:///certs/good2.pem"

const clientAuthWhy = "client_ca_tls_container_ref: client certificate authentication is not served yet."

// localTLS: the local amphorae's capabilities with a certificate manager.
func localTLS(cfg *server.Config, d *v2.Deps) {
	localCaps(cfg, d)
	cfg.V2.Capabilities.Certificates = readable{good: true, good2: true}
	cfg.V2.Capabilities.UnsupportedOptions = map[string]string{
		"client_ca_tls_container_ref": clientAuthWhy,
		"tls_container_ref":           "tls_container_ref: pool client certificates are not served yet.",
		"ca_tls_container_ref":        "ca_tls_container_ref: member certificate verification is not served yet.",
	}
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
			https(`, "default_tls_container_ref": "` + good + `", "client_ca_tls_container_ref": "` + good2 + `"`),
			501, "Provider 'amphora' does not support a requested option: " + clientAuthWhy},
		{"pool client certificate", "POST", "/v2/lbaas/pools",
			`{"pool": {"loadbalancer_id": "` + lbID + `", "protocol": "HTTPS", "lb_algorithm": "ROUND_ROBIN", "tls_enabled": true, "tls_container_ref": "` + good + `"}}`,
			501, "Provider 'amphora' does not support a requested option: tls_container_ref: pool client certificates are not served yet."},
		{"pool CA on update", "PUT", "/v2/lbaas/pools/" + poolID, `{"pool": {"ca_tls_container_ref": "` + good + `"}}`,
			501, "Provider 'amphora' does not support a requested option: ca_tls_container_ref: member certificate verification is not served yet."},
		{"update to a readable default", "PUT", "/v2/lbaas/listeners/" + listID, `{"listener": {"default_tls_container_ref": "` + good2 + `"}}`, 200, ""},
		{"update to an unreadable default", "PUT", "/v2/lbaas/listeners/" + listID, `{"listener": {"default_tls_container_ref": "x"}}`,
			400, "Could not retrieve certificate: ['x']"},
		{"update with client authentication", "PUT", "/v2/lbaas/listeners/" + listID, `{"listener": {"client_ca_tls_container_ref": "` + good + `"}}`,
			501, "Provider 'amphora' does not support a requested option: " + clientAuthWhy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, localTLS)
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
// checked and every TLS option is accepted, as with Octavia's noop setup.
func TestTLSReferencesUncheckedWithoutManager(t *testing.T) {
	e := newEnv(t)
	e.activeGraph()
	e.do(http.MethodPost, "/v2/lbaas/listeners", listenerBody(`, "protocol": "TERMINATED_HTTPS", "default_tls_container_ref": "anything",
		"client_ca_tls_container_ref": "ca"`)).expectStatus(http.StatusCreated)
}
