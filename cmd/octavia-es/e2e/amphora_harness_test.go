package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Health manager settings of the servers with local amphorae: Octavia's
// defaults here (heartbeat every second, failover after 3 s of silence).
const (
	heartbeatInterval = time.Second
	heartbeatTimeout  = 3 * time.Second
)

// listenerPort is where the tests' listeners listen: every server has its
// own VIP subnet, so the port never collides, and it needs no privilege.
const listenerPort = 8080

// requireHAProxy skips a test that runs amphorae where HAProxy is missing,
// except in CI (CI=true), which installs it.
func requireHAProxy(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("haproxy"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("haproxy is not installed (CI=true): apt-get install -y haproxy")
		}
		t.Skip("haproxy is not installed (apt-get install -y haproxy); skipped outside CI")
	}
}

// startLocalServer is a server whose load balancers run on real amphorae.
func startLocalServer(t *testing.T) *server {
	t.Helper()
	return startServer(t, serverOptions{Local: true})
}

var vipNets atomic.Int32

// nextVIPNet is a /24 of loopback no other server of this run uses (its
// first host is the gateway, the VIPs follow). The second octet varies with
// the process so that two runs at once do not share VIPs either.
func nextVIPNet(t *testing.T) netip.Prefix {
	t.Helper()
	n := vipNets.Add(1)
	if n > 250 {
		t.Fatal("out of VIP subnets")
	}
	return netip.MustParsePrefix(fmt.Sprintf("127.%d.%d.0/24", 150+os.Getpid()%50, n))
}

func freeUDPAddr(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free UDP port: %v", err)
	}
	defer c.Close()
	return c.LocalAddr().String()
}

// proc is a running process as /proc shows it.
type proc struct {
	pid     int
	cmdline string // arguments joined by spaces
}

// procsMatching lists the live processes whose command line contains s
// (zombies have none).
func procsMatching(s string) []proc {
	var out []proc
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil || pid == os.Getpid() {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || len(raw) == 0 {
			continue
		}
		cmdline := strings.TrimRight(strings.ReplaceAll(string(raw), "\x00", " "), " ")
		if strings.Contains(cmdline, s) {
			out = append(out, proc{pid: pid, cmdline: cmdline})
		}
	}
	return out
}

// amphoraeDir is where the local compute driver keeps a server's amphorae
// (the embedded default: <data_dir>/amphorae/<amphora id>/).
func amphoraeDir(dataDir string) string { return filepath.Join(dataDir, "amphorae") + "/" }

// stopAmphorae ends every amphora of a data directory: SIGTERM to the
// agents (each stops its HAProxy), then SIGKILL to anything left, the
// HAProxy processes included (found by their configuration's path). A
// process still alive after that fails the test.
func stopAmphorae(t *testing.T, dataDir string) {
	t.Helper()
	dir := amphoraeDir(dataDir)
	for _, p := range procsMatching(dir) {
		if strings.Contains(p.cmdline, "amphora-agent") {
			_ = syscall.Kill(p.pid, syscall.SIGTERM)
		}
	}
	if waitNoProcs(dir, 5*time.Second) {
		return
	}
	for _, p := range procsMatching(dir) {
		_ = syscall.Kill(p.pid, syscall.SIGKILL)
	}
	if !waitNoProcs(dir, 3*time.Second) {
		t.Errorf("amphora processes survive the test: %v", procsMatching(dir))
	}
}

func waitNoProcs(s string, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for {
		if len(procsMatching(s)) == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// killAmphora is kill -9 of one amphora: its agent and its HAProxy master
// and workers at once (found by the amphora's working directory in their
// command lines: agent.yaml, haproxy.cfg), as a VM that dies. It returns
// what it killed.
func killAmphora(t *testing.T, dataDir, amphoraID string) []proc {
	t.Helper()
	dir := filepath.Join(amphoraeDir(dataDir), amphoraID) + "/"
	procs := procsMatching(dir)
	var agent, haproxy bool
	for _, p := range procs {
		agent = agent || strings.Contains(p.cmdline, "amphora-agent")
		haproxy = haproxy || strings.Contains(p.cmdline, "haproxy")
		if err := syscall.Kill(p.pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			t.Fatalf("kill -9 %d: %v", p.pid, err)
		}
	}
	if !agent || !haproxy {
		t.Fatalf("amphora %s: want its agent and its haproxy running, found %v", amphoraID, procs)
	}
	return procs
}

// backend is a member: a real HTTP server on 127.0.0.1 answering its name.
// It can be stopped and started again on the same port, and /hold requests
// wait for release (LEAST_CONNECTIONS).
type backend struct {
	name string
	port int

	mu      sync.Mutex
	srv     *http.Server
	release chan struct{} // closed by releaseHeld
	held    atomic.Int32  // /hold requests waiting
	served  atomic.Int64  // requests answered (health checks included)
}

func startBackend(t *testing.T, name string) *backend {
	t.Helper()
	b := &backend{name: name, release: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b.port = ln.Addr().(*net.TCPAddr).Port
	b.serve(ln)
	t.Cleanup(func() {
		b.releaseHeld()
		b.stop()
	})
	return b
}

func (b *backend) serve(ln net.Listener) {
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(b.handle)}
	b.mu.Lock()
	b.srv = srv
	b.mu.Unlock()
	go srv.Serve(ln) //nolint:errcheck // ends with Close
}

func (b *backend) handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/hold" {
		b.held.Add(1)
		b.mu.Lock()
		release := b.release
		b.mu.Unlock()
		select {
		case <-release:
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
		b.held.Add(-1)
	}
	b.served.Add(1)
	if r.URL.Path == "/headers" {
		// What reached the member: the headers HAProxy inserted.
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(r.Header)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, b.name)
}

// stop closes the listener and every connection: HAProxy's checks are
// refused from now on.
func (b *backend) stop() {
	b.mu.Lock()
	srv := b.srv
	b.srv = nil
	b.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// start serves again on the same port.
func (b *backend) start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(b.port))
	if err != nil {
		t.Fatalf("backend %s: listen again on %d: %v", b.name, b.port, err)
	}
	b.serve(ln)
}

func (b *backend) releaseHeld() {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-b.release:
	default:
		close(b.release)
	}
}

// vipClient sends requests to a listener on a VIP, one connection each (so
// that every request is balanced on its own).
type vipClient struct {
	base string
	hc   *http.Client
}

func newVIPClient(vip string, port int) *vipClient {
	return &vipClient{
		base: "http://" + net.JoinHostPort(vip, strconv.Itoa(port)),
		hc:   &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
	}
}

// get returns the body of a 200 answer (a backend's name).
func (c *vipClient) get(path string) (string, error) {
	return c.getWith(c.hc, path)
}

func (c *vipClient) getWith(hc *http.Client, path string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, body)
	}
	return string(body), nil
}

// answers sends n requests and returns who answered each, failing the test
// on any error.
func (c *vipClient) answers(t *testing.T, n int) []string {
	t.Helper()
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		body, err := c.get("/")
		if err != nil {
			t.Fatalf("request %d to %s: %v", i, c.base, err)
		}
		out = append(out, body)
	}
	return out
}

// count tallies answers by backend name.
func count(answers []string) map[string]int {
	m := map[string]int{}
	for _, a := range answers {
		m[a]++
	}
	return m
}

// waitServing waits until a request through the VIP succeeds.
func (c *vipClient) waitServing(t *testing.T) {
	t.Helper()
	poll(t, "traffic through "+c.base, func() (bool, string) {
		_, err := c.get("/")
		if err != nil {
			return false, err.Error()
		}
		return true, ""
	})
}

// member is a member as a test builds it.
func member(b *backend) map[string]any {
	return map[string]any{"address": "127.0.0.1", "protocol_port": b.port, "name": b.name}
}

// httpMonitor checks every second and changes a member's state on the
// first result (Octavia's fastest settings).
func httpMonitor() map[string]any {
	return map[string]any{"type": "HTTP", "delay": 1, "timeout": 1, "max_retries": 1, "max_retries_down": 1, "url_path": "/"}
}

// httpListener is an HTTP listener on listenerPort (+offset) with a
// default pool.
func httpListener(name string, offset int, pool map[string]any) map[string]any {
	return map[string]any{"name": name, "protocol": "HTTP", "protocol_port": listenerPort + offset, "default_pool": pool}
}

// httpPool is a pool of members with an algorithm and a health monitor.
func httpPool(name, algorithm string, backends ...*backend) map[string]any {
	members := []any{}
	for _, b := range backends {
		members = append(members, member(b))
	}
	return map[string]any{"name": name, "protocol": "HTTP", "lb_algorithm": algorithm, "members": members, "healthmonitor": httpMonitor()}
}

// stack is a load balancer made by a test, with its objects' ids.
type stack struct {
	lb        string
	vip       string
	listeners map[string]string // name -> id
	pools     map[string]string // name -> id
	members   map[string]string // backend name -> member id
}

// createStack creates a load balancer with listeners in one request (a
// fully populated create) and waits for it to be ACTIVE. Its amphora is
// stopped when the test ends (startServer's cleanup).
func createStack(t *testing.T, c *rawClient, listeners ...map[string]any) stack {
	t.Helper()
	body := mustJSON(t, map[string]any{"loadbalancer": map[string]any{
		"name": t.Name(), "vip_subnet_id": defaultSubnet, "listeners": listeners,
	}})
	r := c.do(t, request{Method: http.MethodPost, Path: "/v2/lbaas/loadbalancers", Body: body})
	mustStatus(t, "create load balancer", r, http.StatusCreated)
	lb := objectAt(t, r, "loadbalancer")
	s := stack{lb: lb["id"].(string), vip: lb["vip_address"].(string),
		listeners: map[string]string{}, pools: map[string]string{}, members: map[string]string{}}
	waitActive(t, c, s.lb)
	tree := statusTree(t, c, s.lb)
	for _, l := range tree.listeners {
		s.listeners[l.name] = l.id
		for _, p := range l.pools {
			s.pools[p.name] = p.id
			for _, m := range p.members {
				s.members[m.name] = m.id
			}
		}
	}
	return s
}

// tree is a load balancer's status tree (GET .../status).
type tree struct {
	operating string
	listeners []treeListener
	byID      map[string]string // object id -> operating_status
}

type treeListener struct {
	id, name, operating string
	pools               []treePool
}

type treePool struct {
	id, name, operating string
	members             []treeMember
}

type treeMember struct{ id, name, operating string }

func statusTree(t *testing.T, c *rawClient, lbID string) tree {
	t.Helper()
	r := c.get(t, "/v2/lbaas/loadbalancers/"+lbID+"/status")
	mustStatus(t, "status tree", r, http.StatusOK)
	lb, _ := objectAt(t, r, "statuses")["loadbalancer"].(map[string]any)
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	list := func(m map[string]any, k string) []map[string]any {
		raw, _ := m[k].([]any)
		var out []map[string]any
		for _, v := range raw {
			if o, ok := v.(map[string]any); ok {
				out = append(out, o)
			}
		}
		return out
	}
	tr := tree{operating: str(lb, "operating_status"), byID: map[string]string{str(lb, "id"): str(lb, "operating_status")}}
	for _, l := range list(lb, "listeners") {
		tl := treeListener{id: str(l, "id"), name: str(l, "name"), operating: str(l, "operating_status")}
		tr.byID[tl.id] = tl.operating
		for _, p := range list(l, "pools") {
			tp := treePool{id: str(p, "id"), name: str(p, "name"), operating: str(p, "operating_status")}
			tr.byID[tp.id] = tp.operating
			for _, m := range list(p, "members") {
				tm := treeMember{id: str(m, "id"), name: str(m, "name"), operating: str(m, "operating_status")}
				tr.byID[tm.id] = tm.operating
				tp.members = append(tp.members, tm)
			}
			tl.pools = append(tl.pools, tp)
		}
		tr.listeners = append(tr.listeners, tl)
	}
	return tr
}

// waitOperating waits until every id has its wanted operating status and
// returns how long that took; the test fails after within.
func waitOperating(t *testing.T, c *rawClient, lbID string, within time.Duration, want map[string]string) time.Duration {
	t.Helper()
	start := time.Now()
	var last tree
	for {
		last = statusTree(t, c, lbID)
		ok := true
		for id, status := range want {
			if last.byID[id] != status {
				ok = false
			}
		}
		if ok {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("operating statuses %v not reached within %s; last seen %v", want, within, last.byID)
		}
		time.Sleep(pollInterval)
	}
}

// allOnline wants every object of the stack ONLINE.
func (s stack) allOnline() map[string]string {
	want := map[string]string{s.lb: "ONLINE"}
	for _, m := range []map[string]string{s.listeners, s.pools, s.members} {
		for _, id := range m {
			want[id] = "ONLINE"
		}
	}
	return want
}

// amphoraOf returns the one amphora of a load balancer (the admin API).
func amphoraOf(t *testing.T, c *rawClient, lbID string) map[string]any {
	t.Helper()
	r := c.get(t, "/v2/octavia/amphorae?loadbalancer_id="+lbID)
	mustStatus(t, "list amphorae", r, http.StatusOK)
	amps := listAt(t, r, "amphorae")
	if len(amps) != 1 {
		t.Fatalf("load balancer %s has %d amphorae, want 1: %s", lbID, len(amps), r)
	}
	return amps[0]
}

// lbEvents returns the types of a load balancer's events, in order.
func lbEvents(t *testing.T, c *rawClient, lbID string) []string {
	t.Helper()
	r := c.get(t, "/v2/lbaas/loadbalancers/"+lbID+"/events")
	mustStatus(t, "load balancer events", r, http.StatusOK)
	var out []string
	for _, e := range listAt(t, r, "events") {
		s, _ := e["type"].(string)
		out = append(out, s)
	}
	return out
}
