package agent

import (
	"context"
	"crypto/tls"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/certificates/local"
)

// peerSerial opens a new TLS connection to the agent and returns the
// serial of the certificate it presents.
func peerSerial(t *testing.T, a *runningAgent, p pki) string {
	t.Helper()
	conn, err := tls.Dial("tcp", strings.TrimPrefix(a.url, "https://"), p.client.Clone())
	if err != nil {
		t.Fatalf("dial the agent: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// TestServerCertificateRotation: PUT /1.0/certificate refuses what is not
// this amphora's certificate from the controller's CA, and a valid one is
// written and served from the next handshake while HAProxy keeps running.
func TestServerCertificateRotation(t *testing.T) {
	requireHAProxy(t)
	ctx := context.Background()
	base := deepTempDir(t)
	p := newPKI(t, base)
	a := startAgent(t, base, p, nil)
	b1 := startBackend(t, "one")
	port := freePort(t)
	a.mustCall(t, "PUT", uploadPath("1"), lbConfig(base, port, map[string]int{testM1: b1.port}, 1), http.StatusAccepted)
	a.mustCall(t, "PUT", lbPath+"/start", nil, http.StatusAccepted)
	pids := haproxyPIDs(t, LBPaths(a.cfg.BaseDir, testLB).MasterSocket)
	oldSerial := peerSerial(t, a, p)
	oldFile, _ := os.ReadFile(p.certFile)

	issue := func(ca *local.CA, amp string) (cert, key []byte) {
		c, k, err := ca.IssueServer(ctx, amp, []string{"127.0.0.1"}, 2*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return c, k
	}
	good, goodKey := issue(p.ca, testAmp)
	other, otherKey := issue(p.ca, "another-amphora")
	_, strayKey := issue(p.ca, testAmp)
	foreignCA, err := local.NewCA(base + "/foreign-ca")
	if err != nil {
		t.Fatal(err)
	}
	foreign, foreignKey := issue(foreignCA, testAmp)
	cat := func(b ...[]byte) []byte { return slices.Concat(b...) }

	for _, tc := range []struct {
		name string
		body []byte
		want string
	}{
		{"empty", nil, "want a PEM certificate"},
		{"no key", good, "want a PEM certificate"},
		{"another amphora", cat(other, otherKey), "another-amphora"},
		{"mismatched key", cat(good, strayKey), "invalid certificate"},
		{"another CA", cat(foreign, foreignKey), "unknown authority"},
		{"garbage", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), "want a PEM"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := a.mustCall(t, "PUT", "/1.0/certificate", tc.body, http.StatusBadRequest)
			if d, _ := v["details"].(string); !strings.Contains(d, tc.want) {
				t.Fatalf("details %q, want %q", d, tc.want)
			}
			if s := peerSerial(t, a, p); s != oldSerial {
				t.Fatalf("refused certificate served: serial %s, want %s", s, oldSerial)
			}
			if b, _ := os.ReadFile(p.certFile); string(b) != string(oldFile) {
				t.Fatal("refused certificate written")
			}
		})
	}

	v := a.mustCall(t, "PUT", "/1.0/certificate", cat(good, goodKey), http.StatusAccepted)
	if v["message"] != "OK" {
		t.Fatalf("answer %v", v)
	}
	newSerial := peerSerial(t, a, p)
	if newSerial == oldSerial {
		t.Fatal("the new handshake still sees the old certificate")
	}
	if b, _ := os.ReadFile(p.certFile); string(b) != string(good) {
		t.Fatal("the certificate file was not replaced")
	}
	if b, _ := os.ReadFile(p.keyFile); string(b) != string(goodKey) {
		t.Fatal("the key file was not replaced")
	}
	if _, err := tls.LoadX509KeyPair(p.certFile, p.keyFile); err != nil {
		t.Fatalf("the files do not load for the next start: %v", err)
	}
	info := a.mustCall(t, "GET", "/1.0/info", nil, http.StatusOK)
	if na, _ := time.Parse(time.RFC3339, info["cert_not_after"].(string)); time.Until(na) < 90*time.Minute {
		t.Fatalf("cert_not_after %v, want the new certificate's (about 2h)", info["cert_not_after"])
	}
	if after := haproxyPIDs(t, LBPaths(a.cfg.BaseDir, testLB).MasterSocket); !slices.Equal(after, pids) {
		t.Fatalf("haproxy pids %v, want %v unchanged", after, pids)
	}
	if _, err := get(closingClient(), port); err != nil {
		t.Fatalf("traffic after the rotation: %v", err)
	}
}
