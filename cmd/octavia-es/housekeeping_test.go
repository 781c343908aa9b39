package main

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/amphora/agent"
	"github.com/octavia-es/octavia-es/adapters/amphora/haproxy"
	"github.com/octavia-es/octavia-es/adapters/amphora/heartbeat"
	"github.com/octavia-es/octavia-es/adapters/amphora/rest"
	certlocal "github.com/octavia-es/octavia-es/adapters/certificates/local"
	"github.com/octavia-es/octavia-es/events"
)

// fakeRotator answers expiries from a map and records rotations.
type fakeRotator struct {
	mu      sync.Mutex
	expiry  map[string]time.Time
	fail    map[string]error
	rotated []string
}

func (f *fakeRotator) CertificateExpiry(_ context.Context, amp events.Amphora) (time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.expiry[amp.ID], f.fail[amp.ID]
}

func (f *fakeRotator) RotateCertificate(_ context.Context, amp events.Amphora, c, k []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(c) == 0 || len(k) == 0 {
		return errors.New("empty certificate")
	}
	f.rotated = append(f.rotated, amp.ID)
	return nil
}

type fakeIssuer struct{ hosts map[string][]string }

func (f *fakeIssuer) IssueServer(_ context.Context, id string, hosts []string, _ time.Duration) ([]byte, []byte, error) {
	f.hosts[id] = hosts
	return []byte("cert"), []byte("key"), nil
}

func TestCertRotationPicksExpiring(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ip := "10.0.0.7"
	amps := []events.Amphora{{ID: "soon", LBNetworkIP: &ip}, {ID: "later"}, {ID: "none"}, {ID: "broken"}, {ID: "expired"}}
	fr := &fakeRotator{
		expiry: map[string]time.Time{
			"soon": now.Add(13 * 24 * time.Hour), "later": now.Add(15 * 24 * time.Hour), "expired": now.Add(-time.Hour),
		},
		fail: map[string]error{"broken": errors.New("unreachable")},
	}
	counts := map[string]int{}
	iss := &fakeIssuer{hosts: map[string][]string{}}
	r := &certRotation{
		amphorae: func(context.Context) ([]events.Amphora, error) { return amps, nil },
		rotator:  fr, issuer: iss, buffer: defaultCertExpiryBuffer, validity: time.Hour,
		now: func() time.Time { return now }, counted: func(o string) { counts[o]++ },
		log: slog.New(slog.DiscardHandler),
	}
	if n := r.rotateDue(context.Background()); n != 2 {
		t.Fatalf("rotated %d, want 2", n)
	}
	if len(fr.rotated) != 2 || fr.rotated[0] != "soon" || fr.rotated[1] != "expired" {
		t.Fatalf("rotated %v, want [soon expired]", fr.rotated)
	}
	if counts["rotated"] != 2 || counts["failed"] != 1 {
		t.Fatalf("counts %v, want 2 rotated 1 failed", counts)
	}
	if h := iss.hosts["soon"]; len(h) != 1 || h[0] != ip {
		t.Fatalf("issued for hosts %v, want the lb_network_ip", h)
	}
	r.amphorae = func(context.Context) ([]events.Amphora, error) { return nil, errors.New("read model down") }
	if n := r.rotateDue(context.Background()); n != 0 {
		t.Fatalf("rotated %d without a list", n)
	}
}

// TestCertRotationRealAgent rotates the certificate of a real agent (with a
// HAProxy serving traffic and heartbeats flowing) through the rest driver:
// the buffer is longer than the certificate's validity, so it is due.
func TestCertRotationRealAgent(t *testing.T) {
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Skip("haproxy not installed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const ampID = "6c7d8e9f-0000-4000-8000-0000000000c1"
	dir, err := os.MkdirTemp("", "hk")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ca, err := certlocal.NewCA(filepath.Join(dir, "ca"))
	if err != nil {
		t.Fatal(err)
	}
	sc, sk, err := ca.IssueServer(ctx, ampID, []string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cc, ck, err := ca.IssueClient(ctx, "controller", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"cert.pem": sc, "key.pem": sk, "ca.pem": ca.CACertPEM()} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	beats := make(chan heartbeat.Message, 256)
	rcv, err := heartbeat.NewReceiver("127.0.0.1:0", []byte("k"), func(_ context.Context, m heartbeat.Message, _ netip.AddrPort) {
		select {
		case beats <- m:
		default:
		}
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = rcv.Run(ctx) }()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := agent.Config{
		AmphoraID: ampID, BaseDir: filepath.Join(dir, "lbs"), File: filepath.Join(dir, "agent.yaml"),
		TLS:       agent.TLSConfig{CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem"), ClientCAFile: filepath.Join(dir, "ca.pem")},
		Heartbeat: agent.HeartbeatConfig{Targets: []string{rcv.Addr().String()}, Interval: 50 * time.Millisecond, Key: "k"},
	}
	done := make(chan error, 1)
	go func() { done <- agent.Serve(ctx, cfg, ln, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() { cancel(); <-done })

	client, err := tls.X509KeyPair(cc, ck)
	if err != nil {
		t.Fatal(err)
	}
	drv, err := rest.New(rest.Options{ClientCert: client, RootCAs: ca.CertPool(), Log: slog.New(slog.DiscardHandler),
		Render: rest.HAProxyRenderer(haproxy.Options{MaxConn: 2000, NbThread: 1})})
	if err != nil {
		t.Fatal(err)
	}
	ip := "127.0.0.1"
	amp := events.Amphora{ID: ampID, LBNetworkIP: &ip, AgentPort: ln.Addr().(*net.TCPAddr).Port}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := drv.GetInfo(ctx, amp); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("agent did not answer: %v", err)
		}
	}
	serial := func() string {
		conn, err := tls.Dial("tcp", net.JoinHostPort(ip, strconv.Itoa(amp.AgentPort)), &tls.Config{
			Certificates: []tls.Certificate{client}, RootCAs: ca.CertPool(), ServerName: ampID, MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatalf("dial the agent: %v", err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	before := serial()

	counts := map[string]int{}
	r := &certRotation{
		amphorae: func(context.Context) ([]events.Amphora, error) { return []events.Amphora{amp}, nil },
		rotator:  drv, issuer: ca, interval: time.Hour, buffer: 2 * time.Hour, validity: 3 * time.Hour,
		now: time.Now, counted: func(o string) { counts[o]++ }, log: slog.New(slog.DiscardHandler),
	}
	if n := r.rotateDue(ctx); n != 1 || counts["rotated"] != 1 {
		t.Fatalf("rotated %d (counts %v), want 1", n, counts)
	}
	after := serial()
	if after == before {
		t.Fatal("the agent still presents the old certificate")
	}
	exp, err := drv.CertificateExpiry(ctx, amp)
	if err != nil || time.Until(exp) < 2*time.Hour {
		t.Fatalf("expiry %v (%v), want the new 3h certificate", exp, err)
	}
	// Not due any more: a second round rotates nothing.
	if n := r.rotateDue(ctx); n != 0 {
		t.Fatalf("second round rotated %d, want 0", n)
	}
	if s := serial(); s != after {
		t.Fatalf("serial changed again: %s", s)
	}
	// Heartbeats keep flowing after the swap.
	for len(beats) > 0 {
		<-beats
	}
	select {
	case m := <-beats:
		if m.AmphoraID != ampID {
			t.Fatalf("heartbeat from %s", m.AmphoraID)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no heartbeat after the rotation")
	}
}

// The housekeeping subcommand runs on its own with /metrics; with the noop
// drivers it says there is nothing to rotate.
func TestHousekeepingCommandWithNoopDrivers(t *testing.T) {
	dir := t.TempDir()
	ops := freeAddr(t)
	errs := startCommand(t, noopEnv, "housekeeping", "--data-dir", dir, "--metrics-listen", ops)
	waitHTTP(t, "http://"+ops+"/metrics", 200, errs)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(errs.String(), "nothing to rotate"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no 'nothing to rotate' in:\n%s", errs)
		}
	}
}
