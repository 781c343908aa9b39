package local

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/octavia-es/octavia-es/adapters/amphora/agent"
	"github.com/octavia-es/octavia-es/adapters/compute"
	"github.com/octavia-es/octavia-es/adapters/compute/computetest"
)

const (
	ampA = "7a0c1e2f-0000-4000-8000-0000000000a1"
	ampB = "7a0c1e2f-0000-4000-8000-0000000000b2"
)

// syncBuffer collects the driver's log.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type fixture struct {
	cfg  Config
	deps Deps
	ca   *testCA
	logs *syncBuffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ca := newTestCA(t)
	logs := &syncBuffer{}
	return &fixture{
		cfg: Config{
			BaseDir:       filepath.Join(t.TempDir(), "amphorae"),
			Executable:    fakeAgent,
			BootTimeout:   5 * time.Second,
			StopTimeout:   2 * time.Second,
			HAProxyBinary: fakeAgent, // any executable: the fake agent runs no HAProxy
			Heartbeat:     agent.HeartbeatConfig{Targets: []string{"127.0.0.1:5555"}, Interval: time.Second, Key: "insecure"},
		},
		deps: Deps{CA: ca, Log: slog.New(slog.NewTextHandler(logs, nil))},
		ca:   ca,
		logs: logs,
	}
}

// driver returns a new driver over the fixture's base directory; its agents
// are stopped when the test ends.
func (f *fixture) driver(t *testing.T) *Driver {
	t.Helper()
	d, err := New(f.cfg, f.deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := d.StopAll(context.Background()); err != nil {
			t.Errorf("StopAll: %v", err)
		}
		_ = d.Close()
	})
	return d
}

func request(amphoraID string) compute.AmphoraRequest {
	return compute.AmphoraRequest{LoadBalancerID: "3f1e2d4c-0000-4000-8000-00000000000a", AmphoraID: amphoraID, Role: "STANDALONE", ImageID: "img", FlavorID: "flv"}
}

func mustCreate(t *testing.T, d *Driver, amphoraID string) compute.Amphora {
	t.Helper()
	a, err := d.CreateAmphora(context.Background(), request(amphoraID))
	if err != nil {
		t.Fatalf("CreateAmphora(%s): %v", amphoraID, err)
	}
	return a
}

func agentPID(t *testing.T, f *fixture, amphoraID string) int {
	t.Helper()
	pid, err := readPID(filepath.Join(f.cfg.BaseDir, amphoraID))
	if err != nil || pid == 0 {
		t.Fatalf("pid of %s: %d, %v", amphoraID, pid, err)
	}
	return pid
}

// childPID is the fake agent's stand-in for HAProxy.
func childPID(t *testing.T, f *fixture, amphoraID string) int {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(f.cfg.BaseDir, amphoraID, haproxyBase, "child.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// alive: pid exists and is not a zombie.
func alive(pid int) bool {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(raw, ')')
	return i > 0 && i+2 < len(raw) && raw[i+2] != 'Z'
}

func eventually(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func status(t *testing.T, d *Driver, computeID string) string {
	t.Helper()
	st, err := d.Status(context.Background(), computeID)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	return st
}

func TestConformance(t *testing.T) {
	computetest.Run(t, func(t *testing.T) compute.Driver { return newFixture(t).driver(t) })
}

func TestBootWritesTheAmphorasFiles(t *testing.T) {
	f := newFixture(t)
	d := f.driver(t)
	a := mustCreate(t, d, ampA)
	dir := filepath.Join(f.cfg.BaseDir, ampA)

	if a.ComputeID != ComputeID(ampA) || a.LBNetworkIP != "127.0.0.1" || a.AgentPort <= 0 || a.ImageID != "img" || a.ComputeFlavor != "flv" {
		t.Fatalf("amphora = %+v", a)
	}
	raw, err := os.ReadFile(filepath.Join(dir, configFile))
	if err != nil {
		t.Fatal(err)
	}
	var got agent.Config
	if err := yaml.Unmarshal(raw, &got); err != nil {
		t.Fatalf("agent.yaml: %v", err)
	}
	want := agent.Config{
		AmphoraID: ampA,
		Listen:    "127.0.0.1:" + strconv.Itoa(a.AgentPort),
		BaseDir:   filepath.Join(dir, haproxyBase),
		TLS: agent.TLSConfig{
			CertFile:     filepath.Join(dir, certFile),
			KeyFile:      filepath.Join(dir, keyFile),
			ClientCAFile: filepath.Join(dir, caFile),
		},
		HAProxyBinary: fakeAgent,
		Heartbeat:     f.cfg.Heartbeat,
	}
	if got.AmphoraID != want.AmphoraID || got.Listen != want.Listen || got.BaseDir != want.BaseDir || got.TLS != want.TLS ||
		got.HAProxyBinary != want.HAProxyBinary || got.Heartbeat.Interval != want.Heartbeat.Interval ||
		got.Heartbeat.Key != want.Heartbeat.Key || strings.Join(got.Heartbeat.Targets, ",") != "127.0.0.1:5555" {
		t.Fatalf("agent.yaml = %+v\nwant %+v", got, want)
	}

	// Private files: the directory and every file are the owner's only.
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("working directory mode: %v, %v", st.Mode(), err)
	}
	for _, name := range []string{configFile, certFile, keyFile, caFile, stateFile, pidFile} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", name, st.Mode(), err)
		}
	}
	caPEM, _ := os.ReadFile(filepath.Join(dir, caFile))
	if !bytes.Equal(caPEM, f.ca.CACertPEM()) {
		t.Error("ca.pem is not the CA certificate")
	}
	certPEM, _ := os.ReadFile(filepath.Join(dir, certFile))
	block, _ := pem.Decode(certPEM)
	if block == nil {
		t.Fatal("server.pem holds no PEM block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil || cert.Subject.CommonName != ampA || len(cert.IPAddresses) != 1 || cert.IPAddresses[0].String() != "127.0.0.1" {
		t.Fatalf("server certificate: %v %+v", err, cert)
	}
	st, err := readState(dir)
	if err != nil || st.amphora() != a || st.LoadBalancerID != request(ampA).LoadBalancerID || st.Role != "STANDALONE" {
		t.Fatalf("amphora.json = %+v, %v", st, err)
	}
	if pid := agentPID(t, f, ampA); !alive(pid) || !isAgent(pid, filepath.Join(dir, configFile)) {
		t.Fatalf("agent.pid %d is not the running agent", pid)
	}
	if got := f.ca.issuedIDs(); len(got) != 1 || got[0] != ampA {
		t.Fatalf("certificates issued for %v", got)
	}
}

func TestDeleteStopsTheWholeAmphora(t *testing.T) {
	tests := []struct {
		name    string
		mode    string
		minTook time.Duration
	}{
		{"agent stops on SIGTERM", "", 0},
		{"agent ignoring SIGTERM is killed after stop_timeout", "ignore-term", 300 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("FAKEAGENT_MODE", tt.mode)
			f := newFixture(t)
			f.cfg.StopTimeout = 300 * time.Millisecond
			d := f.driver(t)
			a := mustCreate(t, d, ampA)
			pid, child := agentPID(t, f, ampA), childPID(t, f, ampA)
			start := time.Now()
			if err := d.DeleteAmphora(context.Background(), a.ComputeID); err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took < tt.minTook {
				t.Errorf("delete took %s, want at least %s", took, tt.minTook)
			}
			eventually(t, "agent and its child gone", 2*time.Second, func() bool { return !alive(pid) && !alive(child) })
			if _, err := os.Stat(filepath.Join(f.cfg.BaseDir, ampA)); !os.IsNotExist(err) {
				t.Fatalf("working directory left: %v", err)
			}
			if _, err := d.Status(context.Background(), a.ComputeID); !errors.Is(err, compute.ErrAmphoraNotFound) {
				t.Fatalf("Status after delete: %v", err)
			}
			if strings.Contains(f.logs.String(), "unexpectedly") {
				t.Fatalf("a deletion was logged as a crash:\n%s", f.logs)
			}
		})
	}
}

func TestCrashIsReportedNotRestarted(t *testing.T) {
	f := newFixture(t)
	d := f.driver(t)
	a := mustCreate(t, d, ampA)
	b := mustCreate(t, d, ampB)
	pid, child := agentPID(t, f, ampA), childPID(t, f, ampA)

	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Status ERROR", 2*time.Second, func() bool { return status(t, d, a.ComputeID) == compute.StatusError })
	eventually(t, "the rest of the amphora killed", 2*time.Second, func() bool { return !alive(child) })
	if !strings.Contains(f.logs.String(), "exited unexpectedly") || !strings.Contains(f.logs.String(), ampA) {
		t.Fatalf("crash not logged:\n%s", f.logs)
	}
	time.Sleep(100 * time.Millisecond)
	if alive(pid) || status(t, d, a.ComputeID) != compute.StatusError {
		t.Fatal("the crashed agent came back on its own")
	}
	if st := status(t, d, b.ComputeID); st != compute.StatusOnline {
		t.Fatalf("the other amphora: %s", st)
	}

	// Asked again, the amphora boots anew; deleting it then cleans up.
	again := mustCreate(t, d, ampA)
	if again.ComputeID != a.ComputeID || status(t, d, a.ComputeID) != compute.StatusOnline {
		t.Fatalf("re-created %+v, status %s", again, status(t, d, a.ComputeID))
	}
	if newPID := agentPID(t, f, ampA); newPID == pid || !alive(newPID) {
		t.Fatalf("new agent pid %d (old %d)", newPID, pid)
	}
	if err := d.DeleteAmphora(context.Background(), a.ComputeID); err != nil {
		t.Fatal(err)
	}
}

func TestCleanExitIsShutoff(t *testing.T) {
	f := newFixture(t)
	d := f.driver(t)
	a := mustCreate(t, d, ampA)
	if err := syscall.Kill(agentPID(t, f, ampA), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Status SHUTOFF", 2*time.Second, func() bool { return status(t, d, a.ComputeID) == compute.StatusShutoff })
}

func TestBootFailures(t *testing.T) {
	tests := []struct {
		name    string
		mode    string
		rename  string // the CA issues a certificate for another amphora
		cancel  bool   // the caller gives up during the boot
		wantErr string
		wantIs  error
	}{
		{name: "agent exits", mode: "exit", wantErr: "haproxy not found (fake)"},
		{name: "agent never answers", mode: "hang", wantErr: "did not answer"},
		{name: "certificate of another amphora", rename: ampB, wantErr: "not amphora " + ampA},
		{name: "caller cancels", mode: "hang", cancel: true, wantIs: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("FAKEAGENT_MODE", tt.mode)
			f := newFixture(t)
			f.cfg.BootTimeout = 500 * time.Millisecond
			f.ca.rename = tt.rename
			d := f.driver(t)
			ctx := context.Background()
			if tt.cancel {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer time.AfterFunc(200*time.Millisecond, cancel).Stop()
				f.cfg.BootTimeout = time.Minute
			}
			var caught atomic.Int64
			go func() { // catch the pid while the boot runs
				for range 100 {
					if p, _ := readPID(filepath.Join(f.cfg.BaseDir, ampA)); p != 0 {
						caught.Store(int64(p))
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
			}()
			_, err := d.CreateAmphora(ctx, request(ampA))
			pid := int(caught.Load())
			switch {
			case err == nil:
				t.Fatal("CreateAmphora succeeded")
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			case tt.wantIs != nil && !errors.Is(err, tt.wantIs):
				t.Fatalf("err = %v, want %v", err, tt.wantIs)
			}
			if _, err := os.Stat(filepath.Join(f.cfg.BaseDir, ampA)); !os.IsNotExist(err) {
				t.Fatalf("working directory left after a failed boot: %v", err)
			}
			if _, err := d.Status(context.Background(), ComputeID(ampA)); !errors.Is(err, compute.ErrAmphoraNotFound) {
				t.Fatalf("Status after a failed boot: %v", err)
			}
			if pid != 0 {
				eventually(t, "agent of the failed boot gone", 2*time.Second, func() bool { return !alive(pid) })
			}
		})
	}
}

func TestReadoptionAfterRestart(t *testing.T) {
	f := newFixture(t)
	first := f.driver(t)
	a := mustCreate(t, first, ampA)
	b := mustCreate(t, first, ampB)
	pidA, pidB := agentPID(t, f, ampA), agentPID(t, f, ampB)
	_ = first.Close() // the controller goes away; its amphorae stay

	// Leftovers of an earlier life: a boot that never started its agent, and
	// a record whose pid is now another process (this one).
	stale := filepath.Join(f.cfg.BaseDir, "7a0c1e2f-0000-4000-8000-0000000000c3")
	if err := os.MkdirAll(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	reused := "7a0c1e2f-0000-4000-8000-0000000000d4"
	reusedDir := filepath.Join(f.cfg.BaseDir, reused)
	if err := os.MkdirAll(reusedDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := writeState(reusedDir, state{AmphoraID: reused, ComputeID: ComputeID(reused), LBNetworkIP: "127.0.0.1", AgentPort: 1}); err != nil {
		t.Fatal(err)
	}
	if err := writePID(reusedDir, os.Getpid()); err != nil {
		t.Fatal(err)
	}

	second := f.driver(t)
	for _, amp := range []compute.Amphora{a, b} {
		if st := status(t, second, amp.ComputeID); st != compute.StatusOnline {
			t.Fatalf("adopted %s: %s", amp.ComputeID, st)
		}
	}
	if st := status(t, second, ComputeID(reused)); st != compute.StatusError {
		t.Fatalf("record with a reused pid: %s, want ERROR", st)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("directory of a boot that never started is left: %v", err)
	}
	// A create of an adopted amphora returns it as it runs.
	if again := mustCreate(t, second, ampA); again != a || agentPID(t, f, ampA) != pidA {
		t.Fatalf("create of an adopted amphora: %+v (pid %d), want %+v (pid %d)", again, agentPID(t, f, ampA), a, pidA)
	}

	// The adopted agent crashes: the new driver notices.
	if err := syscall.Kill(pidA, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "adopted crash reported", 2*time.Second, func() bool { return status(t, second, a.ComputeID) == compute.StatusError })
	// Delete works on adopted agents and on dead records alike.
	if err := second.DeleteAmphora(context.Background(), b.ComputeID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "adopted agent stopped", 2*time.Second, func() bool { return !alive(pidB) })
	if err := second.DeleteAmphora(context.Background(), ComputeID(reused)); err != nil {
		t.Fatal(err)
	}
	if !alive(os.Getpid()) {
		t.Fatal("unreachable")
	}
	for _, dir := range []string{filepath.Join(f.cfg.BaseDir, ampB), reusedDir} {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("%s left after delete: %v", dir, err)
		}
	}
}

func TestStopAll(t *testing.T) {
	f := newFixture(t)
	d := f.driver(t)
	a := mustCreate(t, d, ampA)
	mustCreate(t, d, ampB)
	pids := []int{agentPID(t, f, ampA), agentPID(t, f, ampB)}
	if err := d.StopAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		eventually(t, "agent stopped", 2*time.Second, func() bool { return !alive(pid) })
	}
	// The directories stay: a later driver finds the amphorae dead.
	later := f.driver(t)
	if st := status(t, later, a.ComputeID); st != compute.StatusError {
		t.Fatalf("after StopAll, a new driver reports %s, want ERROR", st)
	}
}

func TestConcurrentCreatesBootOnce(t *testing.T) {
	f := newFixture(t)
	d := f.driver(t)
	var wg sync.WaitGroup
	got := make([]compute.Amphora, 4)
	errs := make([]error, 4)
	for i := range got {
		wg.Go(func() { got[i], errs[i] = d.CreateAmphora(context.Background(), request(ampA)) })
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil || got[i] != got[0] {
			t.Fatalf("create #%d: %+v, %v; want %+v", i, got[i], errs[i], got[0])
		}
	}
	if n := len(f.ca.issuedIDs()); n != 1 {
		t.Fatalf("%d boots, want 1", n)
	}
}

func TestProbeWithClientCertificate(t *testing.T) {
	f := newFixture(t)
	f.deps.ClientCert = &f.ca.client
	d := f.driver(t)
	a := mustCreate(t, d, ampA)
	addr := "127.0.0.1:" + strconv.Itoa(a.AgentPort)
	if err := d.prober.probe(context.Background(), ampA, addr); err != nil {
		t.Fatalf("probe with the client certificate: %v", err)
	}
	if err := d.prober.probe(context.Background(), ampB, addr); err == nil || !strings.Contains(err.Error(), "not amphora") {
		t.Fatalf("probe of the wrong amphora: %v", err)
	}
	// Without a client certificate, the agent refuses requests.
	noClient := prober{pool: d.prober.pool}
	conf := noClient.tlsConfig(ampA)
	conn, err := tls.Dial("tcp", addr, conf)
	if err == nil {
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
	}
	if err == nil {
		t.Fatal("the agent served a client without a certificate")
	}
}

func TestInvalidInput(t *testing.T) {
	f := newFixture(t)
	d := f.driver(t)
	for _, id := range []string{"", "../etc", "a/b", ".", strings.Repeat("a", 200), "-leading-dash"} {
		if _, err := d.CreateAmphora(context.Background(), request(id)); err == nil || !strings.Contains(err.Error(), "invalid amphora id") {
			t.Errorf("amphora id %q: err = %v", id, err)
		}
	}
	entries, _ := os.ReadDir(f.cfg.BaseDir)
	if len(entries) != 0 {
		t.Fatalf("invalid requests created %d entries", len(entries))
	}
	for _, id := range []string{"", "../x", "unknown"} {
		if err := d.DeleteAmphora(context.Background(), id); err != nil {
			t.Errorf("DeleteAmphora(%q): %v", id, err)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config, *Deps)
		wantErr string
	}{
		{"no base dir", func(c *Config, _ *Deps) { c.BaseDir = "" }, "base_dir is required"},
		{"missing executable", func(c *Config, _ *Deps) { c.Executable = "/nonexistent/octavia-es" }, "is not a file"},
		{"bad lb network ip", func(c *Config, _ *Deps) { c.LBNetworkIP = "localhost" }, "lb_network_ip"},
		{"negative timeout", func(c *Config, _ *Deps) { c.BootTimeout = -time.Second }, "boot_timeout"},
		{"heartbeat without a key", func(c *Config, _ *Deps) { c.Heartbeat.Key = "" }, "heartbeat.key is required"},
		{"bad heartbeat target", func(c *Config, _ *Deps) { c.Heartbeat.Targets = []string{"127.0.0.1"} }, "heartbeat.targets"},
		{"negative heartbeat interval", func(c *Config, _ *Deps) { c.Heartbeat.Interval = -time.Second }, "heartbeat.interval"},
		{"haproxy missing", func(c *Config, _ *Deps) { c.HAProxyBinary = "haproxy-not-installed-here" }, "apt-get install haproxy"},
		{"no CA", func(_ *Config, d *Deps) { d.CA = nil }, "a CA is required"},
		{"CA certificate not PEM", func(_ *Config, d *Deps) { d.CA = badCA{d.CA.(*testCA)} }, "not a PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.mutate(&f.cfg, &f.deps)
			_, err := New(f.cfg, f.deps)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New: err = %v, want one containing %q", err, tt.wantErr)
			}
			if missing := tt.name == "haproxy missing"; errors.Is(err, ErrHAProxyNotFound) != missing {
				t.Fatalf("New: errors.Is(%v, ErrHAProxyNotFound) = %v, want %v", err, !missing, missing)
			}
		})
	}
	// Defaults: a bare configuration with a base dir and an executable.
	cfg, err := Config{BaseDir: "rel", Executable: fakeAgent, HAProxyBinary: fakeAgent}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(cfg.BaseDir) || cfg.LBNetworkIP != DefaultLBNetworkIP || cfg.BootTimeout != DefaultBootTimeout ||
		cfg.StopTimeout != DefaultStopTimeout || cfg.CertValidity != DefaultCertValidity {
		t.Fatalf("defaults: %+v", cfg)
	}
}
