package rest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/amphora"
	"github.com/octavia-es/octavia-es/adapters/amphora/agent"
	"github.com/octavia-es/octavia-es/adapters/amphora/amphoratest"
	"github.com/octavia-es/octavia-es/adapters/amphora/haproxy"
	"github.com/octavia-es/octavia-es/adapters/amphora/heartbeat"
	"github.com/octavia-es/octavia-es/adapters/certificates/local"
	"github.com/octavia-es/octavia-es/events"
)

func requireHAProxy(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("haproxy"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("haproxy is required in CI: apt-get install haproxy")
		}
		t.Skip("haproxy not installed (apt-get install haproxy)")
	}
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// controller is a CA and a driver holding a client certificate from it.
type controller struct {
	ca  *local.CA
	drv *Driver
}

func newController(t *testing.T) controller {
	t.Helper()
	ca, err := local.NewCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cc, ck, err := ca.IssueClient(context.Background(), "controller", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(cc, ck)
	if err != nil {
		t.Fatal(err)
	}
	drv, err := New(Options{
		ClientCert: cert, RootCAs: ca.CertPool(), Log: quiet(),
		// Small limits: an unprivileged HAProxy can't raise its file limit.
		Render: HAProxyRenderer(haproxy.Options{MaxConn: 2000, NbThread: 1}),
	})
	if err != nil {
		t.Fatal(err)
	}
	return controller{ca: ca, drv: drv}
}

// bootAmphora serves an agent for ampID (as the local compute driver
// does, in this process) and returns the amphora as recorded at boot.
func (c controller) bootAmphora(t *testing.T, ampID string) (events.Amphora, string) {
	t.Helper()
	top, err := os.MkdirTemp("", "amp")
	if err != nil {
		t.Fatal(err)
	}
	// Deep: the sockets' absolute paths are beyond the unix socket limit,
	// which the rendered (relative) configuration must not mind.
	dir := filepath.Join(top, strings.Repeat("d", 100), strings.Repeat("e", 50))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	sc, sk, err := c.ca.IssueServer(context.Background(), ampID, []string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"cert.pem": sc, "key.pem": sk, "ca.pem": c.ca.CACertPEM()}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := agent.Config{
		AmphoraID: ampID, BaseDir: filepath.Join(dir, "haproxy"),
		TLS:  agent.TLSConfig{CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem"), ClientCAFile: filepath.Join(dir, "ca.pem")},
		File: filepath.Join(dir, "agent.yaml"),
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- agent.Serve(ctx, cfg, ln, quiet()) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
		os.RemoveAll(top)
	})
	ip := "127.0.0.1"
	amp := events.Amphora{ID: ampID, LBNetworkIP: &ip, AgentPort: ln.Addr().(*net.TCPAddr).Port, AmphoraDriver: "amphora_rest"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c.drv.GetInfo(context.Background(), amp)
		if err == nil {
			return amp, cfg.BaseDir
		}
		select {
		case serveErr := <-done:
			done <- serveErr // for the cleanup
			t.Fatalf("agent exited: %v", serveErr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent did not answer: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestConformance(t *testing.T) {
	requireHAProxy(t)
	c := newController(t)
	n := 0
	amphoratest.Run(t, func(t *testing.T) (amphora.Driver, events.Amphora) {
		n++
		amp, _ := c.bootAmphora(t, fmt.Sprintf("6c7d8e9f-0000-4000-8000-%012d", n))
		return c.drv, amp
	})
}

// showProc asks an agent's HAProxy master which worker is current.
func currentWorker(t *testing.T, masterSock string) string {
	t.Helper()
	// Through the directory's descriptor: the path is too long to dial.
	dir, err := os.Open(filepath.Dir(masterSock))
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	conn, err := net.Dial("unix", fmt.Sprintf("/proc/self/fd/%d/%s", dir.Fd(), filepath.Base(masterSock)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "show proc\n")
	_ = conn.(*net.UnixConn).CloseWrite()
	out, _ := io.ReadAll(conn)
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 2 && f[1] == "worker" && f[2] == "0" {
			return f[0]
		}
	}
	t.Fatalf("no current worker in %s", out)
	return ""
}

func backend(t *testing.T, name string) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, name) })}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

func freePort(t *testing.T, ip string) int {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestTrafficReloadsAndVersions: traffic through the VIP reaches the
// members; an identical push costs no reload, a changed one does; an older
// version never replaces a newer one.
func TestTrafficReloadsAndVersions(t *testing.T) {
	requireHAProxy(t)
	c := newController(t)
	amp, base := c.bootAmphora(t, "6c7d8e9f-0000-4000-8000-0000000000f1")
	ctx := context.Background()
	one, two := backend(t, "one"), backend(t, "two")
	port := freePort(t, amphoratest.VIP.Address)
	graph := func(version int64, ports ...int) amphora.Config {
		cfg := amphoratest.Graph(version, port)
		cfg.HealthMonitors = nil
		cfg.Members = cfg.Members[:len(ports)]
		for i, p := range ports {
			cfg.Members[i].ProtocolPort = p
		}
		return cfg
	}
	vipURL := "http://" + net.JoinHostPort(amphoratest.VIP.Address, strconv.Itoa(port)) + "/"
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	answers := func(n int) map[string]int {
		t.Helper()
		seen := map[string]int{}
		for range n {
			resp, err := hc.Get(vipURL)
			if err != nil {
				t.Fatalf("GET %s: %v", vipURL, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			seen[string(b)]++
		}
		return seen
	}

	if err := c.drv.PlugVIP(ctx, amp, amphoratest.VIP); err != nil {
		t.Fatal(err)
	}
	if err := c.drv.UpdateConfig(ctx, amp, graph(2, one)); err != nil {
		t.Fatal(err)
	}
	if got := answers(2); got["one"] != 2 {
		t.Fatalf("answers %v, want only member one", got)
	}
	masterSock := agent.LBPaths(base, amphoratest.Graph(0, 0).LoadBalancer.ID).MasterSocket
	w1 := currentWorker(t, masterSock)
	if err := c.drv.UpdateConfig(ctx, amp, graph(3, one)); err != nil {
		t.Fatal(err)
	}
	if w := currentWorker(t, masterSock); w != w1 {
		t.Fatalf("an identical configuration reloaded HAProxy (worker %s -> %s)", w1, w)
	}
	if err := c.drv.UpdateConfig(ctx, amp, graph(4, one, two)); err != nil {
		t.Fatal(err)
	}
	if w := currentWorker(t, masterSock); w == w1 {
		t.Fatal("a changed configuration did not reload HAProxy")
	}
	if got := answers(4); got["one"] != 2 || got["two"] != 2 {
		t.Fatalf("answers %v, want both members in turn", got)
	}
	if err := c.drv.UpdateConfig(ctx, amp, graph(3, two)); err != nil {
		t.Fatalf("stale push: %v, want success", err)
	}
	if got := answers(4); got["one"] != 2 || got["two"] != 2 {
		t.Fatalf("after a stale push: answers %v, want the newer configuration kept", got)
	}
}

func TestErrors(t *testing.T) {
	requireHAProxy(t)
	c := newController(t)
	amp, _ := c.bootAmphora(t, "6c7d8e9f-0000-4000-8000-0000000000f2")
	ctx := context.Background()

	noIP := amp
	noIP.LBNetworkIP = nil
	if _, err := c.drv.GetInfo(ctx, noIP); err == nil || !strings.Contains(err.Error(), "lb_network_ip") {
		t.Fatalf("GetInfo without an address: %v", err)
	}
	// Another amphora's id at this address: its certificate doesn't match.
	impostor := amp
	impostor.ID = "6c7d8e9f-0000-4000-8000-0000000000f3"
	if _, err := c.drv.GetInfo(ctx, impostor); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("GetInfo of another amphora id: %v, want a certificate error", err)
	}
	// A configuration HAProxy refuses: the agent's 400 with HAProxy's words.
	bad := amphoratest.Graph(1, 18080)
	bad.Pools[0].LBAlgorithm = "SOURCE_IP_PORT"
	if err := c.drv.UpdateConfig(ctx, amp, bad); !errors.Is(err, haproxy.ErrUnsupportedOption) {
		t.Fatalf("unsupported option: %v", err)
	}
	renderBad, err := New(Options{
		ClientCert: c.drv.opts.ClientCert, RootCAs: c.drv.opts.RootCAs, Log: quiet(),
		Render: func(events.Amphora, amphora.Config, Layout) ([]byte, error) {
			return []byte("global\n    stats socket /nonexistent/x.sock\nfrontend f\n    bogus_keyword\n"), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = renderBad.UpdateConfig(ctx, amp, amphoratest.Graph(1, 18080))
	var ae *AgentError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || !strings.Contains(ae.Details, "bogus_keyword") {
		t.Fatalf("invalid configuration: %v, want the agent's 400 naming bogus_keyword", err)
	}
	vip := amphoratest.VIP
	vip.Address = "192.0.2.10" // not on this host
	if err := c.drv.PlugVIP(ctx, amp, vip); !errors.As(err, &ae) || ae.Status != http.StatusInternalServerError {
		t.Fatalf("PlugVIP of an address not on this host: %v", err)
	}
	if _, err := New(Options{Render: c.drv.opts.Render}); err == nil {
		t.Fatal("New without TLS material")
	}
}

// UpdateAgentConfig: the agent takes the heartbeat settings at once and
// keeps them in its agent.yaml; what it refuses is an *AgentError.
func TestUpdateAgentConfig(t *testing.T) {
	requireHAProxy(t)
	c := newController(t)
	amp, base := c.bootAmphora(t, "6c7d8e9f-0000-4000-8000-0000000000f4")
	ctx := context.Background()
	got := make(chan heartbeat.Message, 64)
	r, err := heartbeat.NewReceiver("127.0.0.1:0", []byte("k1"), func(_ context.Context, m heartbeat.Message, _ netip.AddrPort) {
		select {
		case got <- m:
		default:
		}
	}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = r.Run(rctx) }()

	err = c.drv.UpdateAgentConfig(ctx, amp, amphora.AgentConfig{HeartbeatTargets: []string{r.Addr().String()}})
	var ae *AgentError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || !strings.Contains(ae.Details, "heartbeat.key") {
		t.Fatalf("targets without a key: %v, want the agent's 400", err)
	}
	want := amphora.AgentConfig{HeartbeatTargets: []string{r.Addr().String()}, HeartbeatInterval: 30 * time.Millisecond, HeartbeatKey: "k1"}
	if err := c.drv.UpdateAgentConfig(ctx, amp, want); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		select {
		case m := <-got:
			if m.AmphoraID != amp.ID {
				t.Fatalf("heartbeat from %s", m.AmphoraID)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no heartbeat after the update")
		}
	}
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(base), "agent.yaml"))
	if err != nil || !strings.Contains(string(raw), "interval: 30ms") || !strings.Contains(string(raw), r.Addr().String()) {
		t.Fatalf("agent.yaml = %s (%v)", raw, err)
	}
}
