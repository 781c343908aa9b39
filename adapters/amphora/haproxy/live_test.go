package haproxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/amphora"
	"github.com/octavia-es/octavia-es/events"
)

const liveVIP = "127.100.0.5"

// A configuration binding 127.100.0.5 is valid for haproxy -c.
func TestBindOnLocalVIPPassesCheck(t *testing.T) {
	bin := haproxyBinary(t)
	dir := t.TempDir()
	cfg := simple()
	cfg.LoadBalancer.VipAddress = ptr(liveVIP)
	out, err := Render(cfg, Options{StatsSocket: filepath.Join(dir, "haproxy.sock")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "bind "+liveVIP+":80\n") {
		t.Fatalf("no bind on %s:\n%s", liveVIP, out)
	}
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	if msg := haproxyCheck(t, bin, path); !strings.Contains(msg, "Configuration file is valid") {
		t.Fatalf("haproxy -c: %s", msg)
	}
}

// checkURI is the live health check's url_path: HAProxy must send it
// verbatim, the quote, '#' and '$' included.
const checkURI = "/it's#$HOME"

// backend is a member: it answers with its name and records the requests
// its health checks make.
type backend struct {
	name, addr string
	mu         sync.Mutex
	checks     []*http.Request
	forwarded  []string
}

func startBackend(t *testing.T, name string) *backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{name: name, addr: ln.Addr().String()}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		if r.RequestURI == checkURI {
			b.checks = append(b.checks, r)
		} else {
			b.forwarded = append(b.forwarded, r.Header.Get("X-Forwarded-For"))
		}
		b.mu.Unlock()
		io.WriteString(w, b.name)
	})}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	t.Cleanup(func() { srv.Close() })
	return b
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", liveVIP+":0")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot bind %s: %v", liveVIP, err)
		}
		t.Skipf("cannot bind %s here: %v", liveVIP, err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startHAProxy runs HAProxy master-worker in the foreground on cfg; the
// test stops it.
func startHAProxy(t *testing.T, bin, cfg string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "-W", "-f", cfg)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A worker outliving its master would be left to init, which may not
		// reap it here: let a reload's former worker finish first.
		deadline := time.Now().Add(3 * time.Second)
		for len(children(cmd.Process.Pid)) > 1 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("haproxy output:\n%s", stderr.String())
		}
	})
	return cmd
}

// children lists the pids whose parent is pid (Linux /proc).
func children(pid int) []int {
	var out []int
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at ')'.
		_, rest, ok := strings.Cut(string(b), ") ")
		fields := strings.Fields(rest)
		if !ok || len(fields) < 2 {
			continue
		}
		var child, parent int
		if _, err := fmt.Sscan(fields[1], &parent); err != nil || parent != pid {
			continue
		}
		if _, err := fmt.Sscan(strings.Fields(string(b))[0], &child); err == nil {
			out = append(out, child)
		}
	}
	return out
}

// showStat asks the admin socket for "show stat": proxy,server -> status.
func showStat(sock string) (map[string]string, error) {
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "show stat\n"); err != nil {
		return nil, err
	}
	st := map[string]string{}
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		f := strings.Split(sc.Text(), ",")
		if len(f) > 17 && !strings.HasPrefix(f[0], "#") {
			st[f[0]+","+f[1]] = f[17]
		}
	}
	return st, sc.Err()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(8 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func get(client *http.Client, url string) (string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", resp.Status, b)
	}
	return string(b), err
}

// A rendered configuration carries traffic: HAProxy binds the VIP on
// 127.100.0.5, balances over both members, runs the health check as
// rendered (quoted path, HTTP/1.1 Host), inserts X-Forwarded-For, keeps a
// disabled listener closed, names proxies and servers as the health
// manager expects, and a master-worker reload onto a new rendering keeps
// serving.
func TestRenderedConfigCarriesTraffic(t *testing.T) {
	if testing.Short() {
		t.Skip("starts HAProxy")
	}
	bin := haproxyBinary(t)
	dir := t.TempDir()
	b1, b2 := startBackend(t, "one"), startBackend(t, "two")
	port, offPort, offPoolPort := freePort(t), freePort(t), freePort(t)

	cfg := liveConfig(t, []int{port, offPort, offPoolPort}, b1.addr, b2.addr)
	opts := Options{
		AmphoraID: ampID(), StatsSocket: filepath.Join(dir, "haproxy.sock"),
		StateFile: filepath.Join(dir, "servers-state"), MaxConn: 2000, NbThread: 1,
	}
	path := filepath.Join(dir, "haproxy.cfg")
	writeRendered(t, path, cfg, opts)
	cmd := startHAProxy(t, bin, path)

	be := BackendName(poolID(1), listenerID(1))
	waitFor(t, "both members UP", func() bool {
		st, err := showStat(opts.StatsSocket)
		return err == nil && st[be+","+memberID(1)] == "UP" && st[be+","+memberID(2)] == "UP"
	})
	// HAProxy drops disabled proxies (as Octavia leaves them out); a
	// disabled member stays, in maintenance.
	st, _ := showStat(opts.StatsSocket)
	for key := range st {
		if strings.HasPrefix(key, FrontendName(listenerID(2))+",") || strings.HasPrefix(key, poolID(2)+":") {
			t.Errorf("disabled proxy in stats: %s", key)
		}
	}
	if got := st[be+","+memberID(3)]; got != "MAINT" {
		t.Errorf("disabled member status = %q, want MAINT (stats %v)", got, st)
	}

	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	url := fmt.Sprintf("http://%s:%d/", liveVIP, port)
	var seen []string
	for range 4 {
		body, err := get(client, url)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, body)
	}
	slices.Sort(seen)
	if want := []string{"one", "one", "two", "two"}; !slices.Equal(seen, want) {
		t.Errorf("round robin answers = %v, want %v", seen, want)
	}
	for _, b := range []*backend{b1, b2} {
		b.mu.Lock()
		if len(b.checks) == 0 {
			t.Errorf("%s: no health check", b.name)
		} else if r := b.checks[0]; r.Method != http.MethodGet || r.Host != "example.com" || r.Proto != "HTTP/1.1" {
			t.Errorf("%s: health check %s %s %s Host %q", b.name, r.Method, r.URL, r.Proto, r.Host)
		}
		if len(b.forwarded) == 0 || b.forwarded[0] != "127.0.0.1" {
			t.Errorf("%s: X-Forwarded-For = %v, want 127.0.0.1", b.name, b.forwarded)
		}
		b.mu.Unlock()
	}
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("%s:%d", liveVIP, offPort), time.Second); err == nil {
		c.Close()
		t.Errorf("disabled listener accepts connections")
	}
	if _, err := get(client, fmt.Sprintf("http://%s:%d/", liveVIP, offPoolPort)); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("listener with a disabled pool: %v, want 503", err)
	}

	// Reload onto member two drained (weight 0): only "one" answers.
	cfg.Members[1].Weight = 0
	writeRendered(t, path, cfg, opts)
	if err := cmd.Process.Signal(syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reloaded worker", func() bool {
		for range 4 {
			if body, err := get(client, url); err != nil || body != "one" {
				return false
			}
		}
		return true
	})
}

// liveConfig: listener 1 on ports[0] with members on addr1, addr2 and a
// disabled third; listener 2 disabled on ports[1]; listener 3 on ports[2]
// with a disabled pool.
func liveConfig(t *testing.T, ports []int, addr1, addr2 string) amphora.Config {
	t.Helper()
	c := simple()
	c.LoadBalancer.VipAddress = ptr(liveVIP)
	c.Listeners[0].ProtocolPort = ports[0]
	c.Listeners[0].InsertHeaders = map[string]string{"X-Forwarded-For": "true"}
	off := withPool(listener(2, protoHTTP, ports[1]), 2)
	off.AdminStateUp = false
	c.Listeners = append(c.Listeners, off, withPool(listener(3, protoHTTP, ports[2]), 3))
	offPool := pool(3, protoHTTP, "ROUND_ROBIN")
	offPool.AdminStateUp = false
	c.Pools = append(c.Pools, pool(2, protoHTTP, "ROUND_ROBIN"), offPool)
	c.Members = append(c.Members, member(3, 1, "127.0.0.1", 1), member(4, 2, "127.0.0.1", 1), member(5, 3, "127.0.0.1", 1))
	c.Members[2].AdminStateUp = false
	for i, addr := range []string{addr1, addr2, addr1, addr1, addr1} {
		ap, err := netip.ParseAddrPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Members[i].Address, c.Members[i].ProtocolPort = ap.Addr().String(), int(ap.Port())
	}
	hm := monitor(1, 1, monitorHTTP)
	hm.Delay, hm.Timeout, hm.MaxRetries = 1, 1, 1
	hm.URLPath, hm.HTTPVersion, hm.DomainName = ptr(checkURI), ptr(1.1), ptr("example.com")
	c.HealthMonitors = []events.HealthMonitor{hm}
	return c
}

func writeRendered(t *testing.T, path string, cfg amphora.Config, opts Options) {
	t.Helper()
	out, err := Render(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
}
