package e2e

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAmphoraCertificateRotation: serve's housekeeping with a buffer longer
// than the agents' certificate validity rotates each round: the agent's
// certificate file gets new serials, the agent keeps answering (the
// controller verifies the new certificate), heartbeats continue (no
// failover) and the load balancer keeps carrying traffic.
func TestAmphoraCertificateRotation(t *testing.T) {
	t.Parallel()
	requireHAProxy(t)
	srv := startServer(t, serverOptions{Local: true, Env: []string{
		"OCTAVIA_ES_HOUSEKEEPING_CERT_ROTATE_INTERVAL=200ms",
		"OCTAVIA_ES_HOUSEKEEPING_CERT_EXPIRY_BUFFER=200000h", // > the 2 years a certificate is valid
	}})
	c := newRawClient(srv.URL, "p-cert-rotation")
	one := startBackend(t, "one")
	s := createStack(t, c, httpListener("web", 0, httpPool("web-pool", "ROUND_ROBIN", one)))
	waitOperating(t, c, s.lb, waitTimeout, s.allOnline())
	amp := amphoraOf(t, c, s.lb)["id"].(string)
	certPath := filepath.Join(amphoraeDir(srv.dataDir), amp, "server.pem")
	serial := func() string {
		raw, err := os.ReadFile(certPath)
		noErr(t, "read the agent certificate", err)
		b, _ := pem.Decode(raw)
		if b == nil {
			t.Fatalf("%s is not PEM", certPath)
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		noErr(t, "parse the agent certificate", err)
		if !slices.Contains(cert.DNSNames, amp) {
			t.Fatalf("certificate names %v, want %s", cert.DNSNames, amp)
		}
		return cert.SerialNumber.String()
	}
	seen := map[string]bool{serial(): true}
	poll(t, "three certificates rotated in", func() (bool, string) {
		seen[serial()] = true
		return len(seen) >= 3, strings.Join(slices.Sorted(func(yield func(string) bool) {
			for k := range seen {
				if !yield(k) {
					return
				}
			}
		}), " ")
	})
	if !strings.Contains(srv.logs.String(), "amphora certificate rotated") {
		t.Error("no rotation logged")
	}

	// Past heartbeat_timeout: still the same amphora, ACTIVE/ONLINE, serving.
	time.Sleep(heartbeatTimeout + heartbeatInterval)
	if now := amphoraOf(t, c, s.lb)["id"].(string); now != amp {
		t.Fatalf("amphora %s replaced by %s during rotations", amp, now)
	}
	lb := objectAt(t, c.get(t, "/v2/lbaas/loadbalancers/"+s.lb), "loadbalancer")
	if lb["provisioning_status"] != "ACTIVE" || lb["operating_status"] != "ONLINE" {
		t.Fatalf("load balancer %v", lb)
	}
	if evs := lbEvents(t, c, s.lb); slices.Contains(evs, "loadbalancer.failover_requested") {
		t.Fatalf("events %v: a failover", evs)
	}
	if got := newVIPClient(s.vip, listenerPort).answers(t, 2); got[0] != "one" {
		t.Fatalf("answers %v", got)
	}
	// Each rotation after the first went over a connection verifying the
	// previous rotated certificate; the metric counts them.
	r := c.do(t, request{Method: "GET", Path: "/metrics"})
	mustStatus(t, "metrics", r, 200)
	if !strings.Contains(string(r.Body), `octavia_es_amphora_cert_rotations_total{outcome="rotated"`) {
		t.Fatalf("no rotation counted in /metrics")
	}
}
