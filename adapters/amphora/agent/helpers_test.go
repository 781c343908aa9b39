package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
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
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/octavia-es/octavia-es/adapters/amphora/heartbeat"
	"github.com/octavia-es/octavia-es/adapters/certificates/local"
)

const (
	testAmp = "0a1b2c3d-0000-4000-8000-00000000a001"
	testLB  = "0a1b2c3d-0000-4000-8000-00000000b001"
	testL1  = "0a1b2c3d-0000-4000-8000-00000000c001"
	testP1  = "0a1b2c3d-0000-4000-8000-00000000d001"
	testM1  = "0a1b2c3d-0000-4000-8000-00000000e001"
	testM2  = "0a1b2c3d-0000-4000-8000-00000000e002"
	testKey = "heartbeat-test-key"
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

func testLog(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// deepTempDir is a temp directory whose path is over 150 bytes long, so
// every socket path under it is beyond the unix socket limit: the agent
// must work wherever the compute driver puts it.
func deepTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "agt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	deep := filepath.Join(dir, strings.Repeat("d", 60), strings.Repeat("e", 60), strings.Repeat("f", 30))
	if err := os.MkdirAll(deep, 0o700); err != nil {
		t.Fatal(err)
	}
	return deep
}

// pki is a CA with the agent's server files and a controller client.
type pki struct {
	ca                        *local.CA
	certFile, keyFile, caFile string
	client                    *tls.Config
}

func newPKI(t *testing.T, dir string) pki {
	t.Helper()
	ctx := context.Background()
	ca, err := local.NewCA(filepath.Join(dir, "ca"))
	if err != nil {
		t.Fatal(err)
	}
	sc, sk, err := ca.IssueServer(ctx, testAmp, []string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cc, ck, err := ca.IssueClient(ctx, "controller", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := pki{ca: ca, certFile: filepath.Join(dir, "server.pem"), keyFile: filepath.Join(dir, "server.key"), caFile: filepath.Join(dir, "client-ca.pem")}
	for path, b := range map[string][]byte{p.certFile: sc, p.keyFile: sk, p.caFile: ca.CACertPEM()} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cert, err := tls.X509KeyPair(cc, ck)
	if err != nil {
		t.Fatal(err)
	}
	p.client = &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: ca.CertPool(), ServerName: testAmp, MinVersion: tls.VersionTLS12}
	return p
}

// runningAgent is an agent served in the test process.
type runningAgent struct {
	cfg  Config
	url  string
	hc   *http.Client
	stop func() // cancels and waits for Serve to return
}

func startAgent(t *testing.T, base string, p pki, targets []string) *runningAgent {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		AmphoraID: testAmp, Listen: ln.Addr().String(), BaseDir: filepath.Join(base, "lbs"),
		TLS:       TLSConfig{CertFile: p.certFile, KeyFile: p.keyFile, ClientCAFile: p.caFile},
		Heartbeat: HeartbeatConfig{Targets: targets, Interval: 100 * time.Millisecond, Key: testKey},
		File:      filepath.Join(base, "agent.yaml"),
	}
	// As the local compute driver writes it (PUT /1.0/config rewrites it).
	raw, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.File, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, cfg, ln, testLog(t)) }()
	var once sync.Once
	a := &runningAgent{
		cfg: cfg, url: "https://" + ln.Addr().String(),
		hc: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: p.client}},
		stop: func() {
			once.Do(func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Serve: %v", err)
				}
			})
		},
	}
	t.Cleanup(a.stop)
	// Serve checks its configuration before serving: wait for the API.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if code, _ := a.call(t, "GET", "/", nil); code == http.StatusOK {
			return a
		}
		select {
		case err := <-done:
			t.Fatalf("agent exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("agent did not answer")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// call returns the status and body; transport errors are status 0.
func (a *runningAgent) call(t *testing.T, method, path string, body []byte) (int, []byte) {
	t.Helper()
	code, b, _ := a.callH(t, method, path, body)
	return code, b
}

func (a *runningAgent) callH(t *testing.T, method, path string, body []byte) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, a.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return 0, []byte(err.Error()), nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func (a *runningAgent) mustCall(t *testing.T, method, path string, body []byte, want int) map[string]any {
	t.Helper()
	code, b := a.call(t, method, path, body)
	if code != want {
		t.Fatalf("%s %s = %d %s, want %d", method, path, code, b, want)
	}
	var v map[string]any
	_ = json.Unmarshal(b, &v)
	return v
}

// lbConfig is a configuration as the controller renders one: frontend
// named by listener id, backend "<pool id>:<listener id>", servers by
// member id, fast health checks.
func lbConfig(base string, port int, members map[string]int, weight int) []byte {
	_ = base
	p := ConfigPaths() // relative to the load balancer's directory, as the controller renders them
	var b strings.Builder
	fmt.Fprintf(&b, `# test configuration
global
    master-worker
    stats socket %s mode 600 level admin expose-fd listeners
    server-state-file %s
    maxconn 2000

defaults
    mode http
    retries 3
    option redispatch
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend %s
    bind 127.0.0.1:%d
    default_backend %s:%s

backend %s:%s
    balance roundrobin
    load-server-state-from-file global
    option httpchk GET /
`, p.StatsSocket, p.StateFile, testL1, port, testP1, testL1, testP1, testL1)
	for _, id := range []string{testM1, testM2} {
		if port, ok := members[id]; ok {
			fmt.Fprintf(&b, "    server %s 127.0.0.1:%d weight %d check inter 100ms fall 1 rise 1\n", id, port, weight)
		}
	}
	return []byte(b.String())
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// backend is an HTTP server answering its name.
type backend struct {
	name string
	port int
	srv  *http.Server
}

func startBackend(t *testing.T, name string) *backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{name: name, port: ln.Addr().(*net.TCPAddr).Port}
	b.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, name)
	})}
	go func() { _ = b.srv.Serve(ln) }()
	t.Cleanup(b.close)
	return b
}

func (b *backend) close() { _ = b.srv.Close() }

// heartbeats collects what a heartbeat receiver accepts.
type heartbeats struct {
	r *heartbeat.Receiver

	mu   sync.Mutex
	msgs []heartbeat.Message
}

func startHeartbeats(t *testing.T) *heartbeats {
	t.Helper()
	return startHeartbeatsKey(t, testKey)
}

// startHeartbeatsKey is a receiver checking HMACs with key.
func startHeartbeatsKey(t *testing.T, key string) *heartbeats {
	t.Helper()
	h := &heartbeats{}
	r, err := heartbeat.NewReceiver("127.0.0.1:0", []byte(key), func(_ context.Context, m heartbeat.Message, _ netip.AddrPort) {
		h.mu.Lock()
		h.msgs = append(h.msgs, m)
		h.mu.Unlock()
	}, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	h.r = r
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return h
}

// waitFor polls the heartbeats received so far until cond holds.
func (h *heartbeats) waitFor(t *testing.T, what string, cond func([]heartbeat.Message) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.mu.Lock()
		ok := cond(h.msgs)
		n := len(h.msgs)
		var last heartbeat.Message
		if n > 0 {
			last = h.msgs[n-1]
		}
		h.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no heartbeat shows %s after %d heartbeats; last: %+v", what, n, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func totConns(msgs []heartbeat.Message) int64 {
	var n int64
	for _, m := range msgs {
		n += m.Listeners[testL1].Stats.TotConns
	}
	return n
}

// get sends one request through HAProxy on a new connection.
func get(client *http.Client, port int) (string, error) {
	resp, err := client.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return string(b), nil
}

func closingClient() *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
}

// alive tells whether pid is a live process (not a zombie).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	_, rest, ok := strings.Cut(string(b), ") ")
	return ok && !strings.HasPrefix(rest, "Z")
}

// haproxyPIDs are the master's and its workers' pids, from the master CLI.
func haproxyPIDs(t *testing.T, masterSock string) []int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := masterCommand(ctx, masterSock, "show proc")
	if err != nil {
		t.Fatalf("show proc: %v", err)
	}
	var pids []int
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) > 1 && (f[1] == "master" || f[1] == "worker") {
			pid, _ := strconv.Atoi(f[0])
			pids = append(pids, pid)
		}
	}
	if len(pids) < 2 {
		t.Fatalf("show proc lists %v:\n%s", pids, out)
	}
	return pids
}

func waitGone(t *testing.T, pids []int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("haproxy process %d still alive", pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
