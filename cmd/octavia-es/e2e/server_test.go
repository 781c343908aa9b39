package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// defaultSubnet is the subnet of the config written by startServer (the
// embedded default's id), which the noop network driver offers.
const (
	defaultSubnet  = "a1f0c9d2-7b3e-4c55-9a1d-1e2f3a4b5c6d"
	defaultNetwork = "b2e1d0c3-8c4f-4d66-8b2e-2f3a4b5c6d7e"
	vipCIDR        = "127.100.0.0/16"
)

// Bounds of every wait in this package: a server that does not answer in
// time is a failure, never a hang.
const (
	readyTimeout = 10 * time.Second
	stopTimeout  = 10 * time.Second
	waitTimeout  = 10 * time.Second
	pollInterval = 20 * time.Millisecond
)

// serverOptions are per-start settings, given to the binary as OCTAVIA_ES_*
// environment variables (so the env overrides are exercised too).
type serverOptions struct {
	NoopDelay time.Duration // OCTAVIA_ES_NOOP_DELAY
	NoopFail  []string      // OCTAVIA_ES_NOOP_FAIL, comma separated
	Env       []string      // further KEY=VALUE pairs
	// Local runs real amphorae (local compute and network, rest amphora:
	// agent processes running HAProxy); otherwise the noop drivers, chosen
	// explicitly since the embedded default is local.
	Local bool
}

func (o serverOptions) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		// The tests decide the whole configuration; a developer's shell must not.
		if !strings.HasPrefix(kv, "OCTAVIA_ES_") {
			env = append(env, kv)
		}
	}
	if o.Local {
		env = append(env, "OCTAVIA_ES_DRIVERS_COMPUTE=local", "OCTAVIA_ES_DRIVERS_NETWORK=local", "OCTAVIA_ES_DRIVERS_AMPHORA=rest")
	} else {
		env = append(env, "OCTAVIA_ES_DRIVERS_COMPUTE=noop", "OCTAVIA_ES_DRIVERS_NETWORK=noop", "OCTAVIA_ES_DRIVERS_AMPHORA=noop")
	}
	env = append(env, "OCTAVIA_ES_NOOP_DELAY="+o.NoopDelay.String())
	if len(o.NoopFail) > 0 {
		env = append(env, "OCTAVIA_ES_NOOP_FAIL="+strings.Join(o.NoopFail, ","))
	}
	return append(env, o.Env...)
}

// server is one octavia-es process (and its successors after restart) on a
// fixed loopback address and data directory.
type server struct {
	t       *testing.T
	URL     string // http://127.0.0.1:port, without a trailing slash
	addr    string
	dataDir string
	config  string
	logs    *lockedBuffer

	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	starts  int

	// Of a server with local amphorae (see startLocalServer).
	vipNet    netip.Prefix // its own VIP subnet: HAProxy binds VIPs with SO_REUSEPORT
	heartbeat string       // its health manager's UDP address, kept across restarts
}

// startServer starts octavia-es with a fresh data directory and waits until
// GET / answers 200. The process is killed when the test ends; its stderr is
// logged if the test failed.
func startServer(t *testing.T, opts serverOptions) *server {
	t.Helper()
	dir := t.TempDir()
	s := &server{
		t:       t,
		dataDir: filepath.Join(dir, "data"),
		config:  filepath.Join(dir, "octavia-es.yaml"),
		logs:    &lockedBuffer{},
	}
	config := testConfig(vipCIDR, "")
	if opts.Local {
		requireHAProxy(t)
		s.vipNet = nextVIPNet(t)
		s.heartbeat = freeUDPAddr(t)
		config = testConfig(s.vipNet.String(), s.vipNet.Addr().Next().String())
		// Runs after the process is killed (cleanups run last-in first-out):
		// amphorae outlive the controller by design, the tests' must not.
		t.Cleanup(func() { stopAmphorae(t, s.dataDir) })
	}
	if err := os.WriteFile(s.config, []byte(config), 0o600); err != nil {
		t.Fatalf("write config: %v", err)
	}
	t.Cleanup(func() {
		if s.running() {
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
		if t.Failed() {
			t.Logf("octavia-es stderr (%d starts):\n%s", s.starts, s.logs.tail(300))
		}
	})

	// A free port can be taken between our probe and the server's bind; a
	// server that exits at once gets another port (twice at most).
	for attempt := 1; ; attempt++ {
		s.addr = freeAddr(t)
		s.URL = "http://" + s.addr
		err := s.launch(opts)
		if err == nil {
			return s
		}
		if !errors.Is(err, errExitedEarly) || attempt == 3 {
			t.Fatalf("octavia-es did not start: %v (its stderr follows)", err)
		}
	}
}

// errExitedEarly: the process ended before answering GET /.
var errExitedEarly = errors.New("exited before ready")

// testConfig is the YAML given with --config; listen and data_dir come from
// --listen and --data-dir, the drivers and noop settings from the
// environment. The default subnet has cidr (and gateway, "" = none).
func testConfig(cidr, gateway string) string {
	return `# written by cmd/octavia-es/e2e
api:
  listen: 127.0.0.1:1
  pagination_max_limit: 1000
data_dir: ./not-used
network:
  subnets:
    - id: ` + defaultSubnet + `
      name: octavia-es-vip
      network_id: ` + defaultNetwork + `
      cidr: ` + cidr + `
      gateway_ip: "` + gateway + `"
sagas:
  step_attempts: 2
  step_backoff: 10ms
log:
  level: info
  format: text
`
}

func (s *server) launch(opts serverOptions) error {
	s.starts++
	fmt.Fprintf(s.logs, "----- start %d: %s serve --listen %s (delay %s, fail %v)\n", s.starts, binary, s.addr, opts.NoopDelay, opts.NoopFail)
	cmd := exec.Command(binary, "serve", "--config", s.config, "--listen", s.addr, "--data-dir", s.dataDir)
	cmd.Env = opts.environ()
	if opts.Local {
		cmd.Env = append(cmd.Env, "OCTAVIA_ES_HEALTH_MANAGER_LISTEN="+s.heartbeat,
			"OCTAVIA_ES_HEALTH_MANAGER_HEARTBEAT_INTERVAL="+heartbeatInterval.String(),
			"OCTAVIA_ES_HEALTH_MANAGER_HEARTBEAT_TIMEOUT="+heartbeatTimeout.String())
	}
	cmd.Stdout = s.logs
	cmd.Stderr = s.logs
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", binary, err)
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()

	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("%w: %v", errExitedEarly, s.waitErr)
		default:
		}
		resp, err := hc.Get(s.URL + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(pollInterval)
	}
	_ = cmd.Process.Kill()
	<-s.exited
	return fmt.Errorf("GET / did not answer 200 within %s", readyTimeout)
}

func (s *server) running() bool {
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// stop sends sig and waits for the process to exit; it returns the exit
// error (nil for status 0). SIGKILL always ends in a non-nil error.
func (s *server) stop(sig syscall.Signal) error {
	s.t.Helper()
	if !s.running() {
		s.t.Fatalf("stop(%v): octavia-es is not running", sig)
	}
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signal %v: %v", sig, err)
	}
	select {
	case <-s.exited:
		fmt.Fprintf(s.logs, "----- stopped by %v: %v\n", sig, s.waitErr)
		return s.waitErr
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.exited
		s.t.Fatalf("octavia-es did not exit within %s of %v", stopTimeout, sig)
		return nil
	}
}

// restart starts a new process on the same address and data directory.
func (s *server) restart(opts serverOptions) {
	s.t.Helper()
	if s.running() {
		s.t.Fatalf("restart: octavia-es is still running")
	}
	if err := s.launch(opts); err != nil {
		s.t.Fatalf("restart: %v (its stderr follows)", err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// lockedBuffer collects a process's output; the exec package writes it from
// its own goroutine while tests read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tail returns the last n lines.
func (b *lockedBuffer) tail(n int) string {
	lines := strings.Split(b.String(), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// exitCode is the status of an exited process, -1 if it died by a signal.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -2
}
