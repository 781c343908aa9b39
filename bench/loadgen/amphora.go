package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// AmphoraResult is the figures of the local amphorae (the default drivers:
// one `octavia-es amphora-agent` process running HAProxy per load
// balancer), measured on a server of their own.
type AmphoraResult struct {
	Skipped      string   `json:"skipped,omitempty"` // why nothing was measured
	CreateActive *Summary `json:"create_to_active,omitempty"`
	FullStack    *Summary `json:"full_stack_to_active,omitempty"`
	// Requests/s of the same load: to the member directly, through the same
	// HAProxy configuration started by hand, through the amphora's VIP.
	Direct  *Summary `json:"direct,omitempty"`
	ByHand  *Summary `json:"by_hand,omitempty"`
	Amphora *Summary `json:"amphora,omitempty"`
	// Failover after kill -9 of the amphora: until a request through the VIP
	// is answered again, and until the load balancer is ACTIVE on a new one.
	FailoverTraffic     *Summary `json:"failover_traffic,omitempty"`
	FailoverActive      *Summary `json:"failover_active,omitempty"`
	HeartbeatTimeoutSec float64  `json:"heartbeat_timeout_s,omitempty"`
}

// AmphoraPlan bounds the amphora figures.
type AmphoraPlan struct {
	CreateActive Bound // bare load balancer create → ACTIVE, each deleted after
	FullStack    Bound // load balancer + listener + pool + 3 members + monitor
	Traffic      Bound // each of the three request loads, in each round
	// TrafficRounds alternate the three loads.
	TrafficRounds int
	Workers       int // concurrent clients of the request loads
	Failovers     int
	// HeartbeatTimeout is the server's health_manager.heartbeat_timeout.
	HeartbeatTimeout time.Duration
}

// DefaultAmphoraPlan is about 40 s on the 2-core machine.
func DefaultAmphoraPlan(workers int) AmphoraPlan {
	return AmphoraPlan{
		CreateActive:     Bound{N: 20, Budget: 30 * time.Second},
		FullStack:        Bound{N: 10, Budget: 30 * time.Second},
		Traffic:          Bound{N: 300000, Budget: 1500 * time.Millisecond},
		TrafficRounds:    2,
		Workers:          workers,
		Failovers:        3,
		HeartbeatTimeout: 3 * time.Second,
	}
}

// amphoraListenerPort is the benchmark listeners' port on their VIP: not
// one a user's load balancer on the same default subnet is likely to use.
const amphoraListenerPort = 18080

// RunAmphorae starts a server with the local drivers and measures. Errors
// are returned as problems; a machine without HAProxy skips the figures.
func RunAmphorae(ctx context.Context, o options, p AmphoraPlan, log *slog.Logger) (AmphoraResult, []string) {
	var res AmphoraResult
	if _, err := exec.LookPath("haproxy"); err != nil {
		res.Skipped = "haproxy not installed (apt-get install -y haproxy)"
		return res, nil
	}
	hb, err := freeUDP()
	if err != nil {
		return res, []string{"amphorae: " + err.Error()}
	}
	logFile, err := os.Create(filepath.Join(o.out, "server-amphorae.log"))
	if err != nil {
		return res, []string{"amphorae: server log: " + err.Error()}
	}
	defer logFile.Close()
	log.Info("amphorae: starting a server with the local drivers")
	srv, err := startServer(ctx, o.bin, o.config, logFile, 30*time.Second,
		"OCTAVIA_ES_DRIVERS_COMPUTE=local", "OCTAVIA_ES_DRIVERS_NETWORK=local", "OCTAVIA_ES_DRIVERS_AMPHORA=rest",
		"OCTAVIA_ES_HEALTH_MANAGER_LISTEN="+hb,
		"OCTAVIA_ES_HEALTH_MANAGER_HEARTBEAT_TIMEOUT="+p.HeartbeatTimeout.String())
	if err != nil {
		return res, []string{"amphorae: " + err.Error()}
	}
	// Amphorae outlive their controller: stop it first (no failover of
	// what is killed next), then whatever amphora is left.
	defer func() {
		srv.terminate()
		stopAmphorae(srv.DataDir)
		_ = os.RemoveAll(srv.DataDir)
	}()
	res.HeartbeatTimeoutSec = p.HeartbeatTimeout.Seconds()
	subnet := o.subnet
	if subnet == "" {
		subnet = subnetFromConfig(o.config)
	}
	c := NewClient(srv.URL, o.project, subnet, p.Workers+1)
	defer c.Close()
	a := &amphoraBench{c: c, dataDir: srv.DataDir}
	return a.run(ctx, p, &res, log)
}

type amphoraBench struct {
	c       *Client
	dataDir string
	members []*member
}

func (a *amphoraBench) run(ctx context.Context, p AmphoraPlan, res *AmphoraResult, log *slog.Logger) (AmphoraResult, []string) {
	var problems []string
	note := func(what string, s Summary) {
		if s.Errors > 0 {
			problems = append(problems, fmt.Sprintf("amphorae: %s: %d errors, first: %s", what, s.Errors, s.FirstErr))
		}
	}
	for i := range 3 {
		m, err := startMember(fmt.Sprintf("member-%d", i+1))
		if err != nil {
			return *res, append(problems, "amphorae: "+err.Error())
		}
		defer m.stop()
		a.members = append(a.members, m)
	}

	log.Info("amphorae: load balancer create → ACTIVE", "n", p.CreateActive.N)
	ca := Summarize(Run(ctx, 1, p.CreateActive, a.createDelete(func(i int) map[string]any {
		return map[string]any{"name": fmt.Sprintf("bench-amp-%d", i)}
	})))
	note("create → ACTIVE", ca)
	res.CreateActive = &ca

	log.Info("amphorae: full stack → ACTIVE", "n", p.FullStack.N)
	fs := Summarize(Run(ctx, 1, p.FullStack, a.createDelete(func(i int) map[string]any {
		return a.graph(fmt.Sprintf("bench-stack-%d", i), a.members...)
	})))
	note("full stack → ACTIVE", fs)
	res.FullStack = &fs

	if ctx.Err() != nil {
		return *res, problems
	}
	log.Info("amphorae: requests through an amphora")
	lbID, vip, err := a.create(ctx, a.graph("bench-traffic", a.members[0]))
	if err != nil {
		return *res, append(problems, "amphorae: traffic load balancer: "+err.Error())
	}
	target := "http://" + net.JoinHostPort(vip, strconv.Itoa(amphoraListenerPort)) + "/"
	if err := waitServed(ctx, target, 10*time.Second); err != nil {
		return *res, append(problems, "amphorae: "+err.Error())
	}
	// Rounds alternating the three targets, so that the machine's load of
	// the moment weighs on each alike.
	byHand, stopByHand, err := a.startByHand(ctx, lbID, vip)
	if err != nil {
		problems = append(problems, "amphorae: HAProxy by hand: "+err.Error())
	}
	var direct, hand, amp Sample
	for range p.TrafficRounds {
		direct = merge(direct, Run(ctx, p.Workers, p.Traffic, getLoad(a.members[0].url, p.Workers)))
		if byHand != "" {
			hand = merge(hand, Run(ctx, p.Workers, p.Traffic, getLoad(byHand, p.Workers)))
		}
		amp = merge(amp, Run(ctx, p.Workers, p.Traffic, getLoad(target, p.Workers)))
	}
	if stopByHand != nil {
		stopByHand()
	}
	for _, x := range []struct {
		what string
		s    Sample
		to   **Summary
	}{{"requests to the member", direct, &res.Direct}, {"requests through HAProxy by hand", hand, &res.ByHand},
		{"requests through the amphora", amp, &res.Amphora}} {
		if x.s.Wall == 0 {
			continue
		}
		sum := Summarize(x.s)
		note(x.what, sum)
		*x.to = &sum
	}

	log.Info("amphorae: failover after kill -9", "n", p.Failovers)
	var traffic, active Sample
	for i := 0; i < p.Failovers && ctx.Err() == nil; i++ {
		t, act, err := a.failover(ctx, lbID, target)
		if err != nil {
			traffic.Errors++
			if traffic.FirstErr == "" {
				traffic.FirstErr = err.Error()
			}
			continue
		}
		traffic.Latencies = append(traffic.Latencies, t)
		active.Latencies = append(active.Latencies, act)
	}
	ft, fa := Summarize(traffic), Summarize(active)
	ft.ReqPerSec, fa.ReqPerSec = 0, 0 // not rates
	note("failover", ft)
	res.FailoverTraffic, res.FailoverActive = &ft, &fa
	_ = a.delete(ctx, lbID)
	return *res, problems
}

// graph is a fully populated load balancer: an HTTP listener on
// amphoraListenerPort, a round-robin pool of members, an HTTP monitor.
func (a *amphoraBench) graph(name string, members ...*member) map[string]any {
	ms := []any{}
	for _, m := range members {
		ms = append(ms, map[string]any{"address": "127.0.0.1", "protocol_port": m.port})
	}
	return map[string]any{"name": name, "listeners": []any{map[string]any{
		"name": "web", "protocol": "HTTP", "protocol_port": amphoraListenerPort,
		"default_pool": map[string]any{
			"name": "web-pool", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "members": ms,
			"healthmonitor": map[string]any{"type": "HTTP", "delay": 1, "timeout": 1, "max_retries": 1},
		},
	}}}
}

// createDelete measures create → ACTIVE of the body, then deletes the load
// balancer (untimed) so one amphora at most runs at a time.
func (a *amphoraBench) createDelete(body func(i int) map[string]any) Op {
	return func(ctx context.Context, i int) (time.Duration, error) {
		start := time.Now()
		id, _, err := a.create(ctx, body(i))
		if err != nil {
			return 0, err
		}
		took := time.Since(start)
		return took, a.delete(ctx, id)
	}
}

// create posts a load balancer and polls it until ACTIVE (as
// CreateToActive); it returns its id and VIP.
func (a *amphoraBench) create(ctx context.Context, lb map[string]any) (string, string, error) {
	lb["vip_subnet_id"] = a.c.subnetID
	body, err := json.Marshal(map[string]any{"loadbalancer": lb})
	if err != nil {
		return "", "", err
	}
	b, err := a.c.expect(ctx, http.StatusCreated, http.MethodPost, "/v2/lbaas/loadbalancers", body)
	if err != nil {
		return "", "", err
	}
	var out struct {
		LoadBalancer struct {
			ID         string `json:"id"`
			VipAddress string `json:"vip_address"`
		} `json:"loadbalancer"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.LoadBalancer.ID == "" {
		return "", "", fmt.Errorf("create: no load balancer id in %.200s (%v)", b, err)
	}
	id := out.LoadBalancer.ID
	return id, out.LoadBalancer.VipAddress, a.waitStatus(ctx, id, "ACTIVE", activeTimeout)
}

func (a *amphoraBench) waitStatus(ctx context.Context, id, want string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		status, err := a.c.LBStatus(ctx, id)
		switch {
		case err != nil:
			return err
		case status == want:
			return nil
		case status == "ERROR":
			return fmt.Errorf("load balancer %s went to ERROR", id)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("load balancer %s not %s after %s (last %s)", id, want, within, status)
		case <-time.After(pollEvery):
		}
	}
}

// delete deletes a load balancer (cascade) and waits until it is gone.
func (a *amphoraBench) delete(ctx context.Context, id string) error {
	path := "/v2/lbaas/loadbalancers/" + url.PathEscape(id)
	if _, err := a.c.expect(ctx, http.StatusNoContent, http.MethodDelete, path+"?cascade=true", nil); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, activeTimeout)
	defer cancel()
	for {
		code, _, err := a.c.do(ctx, http.MethodGet, path, nil)
		if err != nil {
			return err
		}
		if code == http.StatusNotFound {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("load balancer %s not deleted after %s", id, activeTimeout)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// amphoraOf is the id of the load balancer's amphora (the admin API).
func (a *amphoraBench) amphoraOf(ctx context.Context, lbID string) (string, error) {
	b, err := a.c.expect(ctx, http.StatusOK, http.MethodGet, "/v2/octavia/amphorae?loadbalancer_id="+url.QueryEscape(lbID), nil)
	if err != nil {
		return "", err
	}
	var out struct {
		Amphorae []struct {
			ID string `json:"id"`
		} `json:"amphorae"`
	}
	if err := json.Unmarshal(b, &out); err != nil || len(out.Amphorae) != 1 {
		return "", fmt.Errorf("amphorae of %s: %.200s (%v)", lbID, b, err)
	}
	return out.Amphorae[0].ID, nil
}

// failover kills the load balancer's amphora (agent and HAProxy, -9) and
// returns how long until a request through the VIP is answered again, and
// until the load balancer is ACTIVE on another amphora.
func (a *amphoraBench) failover(ctx context.Context, lbID, target string) (time.Duration, time.Duration, error) {
	old, err := a.amphoraOf(ctx, lbID)
	if err != nil {
		return 0, 0, err
	}
	if n := killProcs(filepath.Join(a.dataDir, "amphorae", old) + "/"); n < 2 {
		return 0, 0, fmt.Errorf("amphora %s: %d processes killed, want its agent and HAProxy", old, n)
	}
	start := time.Now()
	deadline := start.Add(30 * time.Second)
	probe := &http.Client{Timeout: 200 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	var served time.Duration
	for served == 0 {
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("no answer through the VIP 30 s after kill -9 of amphora %s", old)
		}
		if resp, err := probe.Get(target); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				served = time.Since(start)
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	for {
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("load balancer %s not ACTIVE on a new amphora 30 s after kill -9", lbID)
		}
		if status, err := a.c.LBStatus(ctx, lbID); err == nil && status == "ACTIVE" {
			if id, err := a.amphoraOf(ctx, lbID); err == nil && id != old {
				return served, time.Since(start), nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startByHand runs the amphora's own HAProxy configuration (read from its
// working directory) with the same binary, started by hand on another
// address: the baseline of what the agent's supervision costs on the data
// path (it should cost nothing). It returns the URL to load and a stop.
func (a *amphoraBench) startByHand(ctx context.Context, lbID, vip string) (string, func(), error) {
	matches, _ := filepath.Glob(filepath.Join(a.dataDir, "amphorae", "*", "haproxy", lbID, "haproxy.cfg"))
	if len(matches) != 1 {
		return "", nil, fmt.Errorf("configuration of %s: %d files found", lbID, len(matches))
	}
	cfg, err := os.ReadFile(matches[0])
	if err != nil {
		return "", nil, err
	}
	port, err := freeTCPPort()
	if err != nil {
		return "", nil, err
	}
	bind := regexp.MustCompile(`(?m)^(\s*bind\s+)` + regexp.QuoteMeta(vip) + `:` + strconv.Itoa(amphoraListenerPort) + `\b`)
	if !bind.Match(cfg) {
		return "", nil, fmt.Errorf("no bind on %s:%d in %s", vip, amphoraListenerPort, matches[0])
	}
	cfg = bind.ReplaceAll(cfg, []byte("${1}127.0.0.1:"+strconv.Itoa(port)))
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "octavia-es-bench-haproxy-")
	if err != nil {
		return "", nil, err
	}
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, cfg, 0o600); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	cmd := exec.Command(bin, "-W", "-db", "-f", path)
	cmd.Dir = dir // the configuration's sockets are relative to it
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	stop := func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		os.RemoveAll(dir)
	}
	target := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	if err := waitServed(ctx, target, 10*time.Second); err != nil {
		stop()
		return "", nil, fmt.Errorf("%w; haproxy said: %s", err, out.String())
	}
	return target, stop, nil
}

// merge adds b's measurements to a's.
func merge(a, b Sample) Sample {
	a.Latencies = append(a.Latencies, b.Latencies...)
	a.Errors += b.Errors
	if a.FirstErr == "" {
		a.FirstErr = b.FirstErr
	}
	a.Wall += b.Wall
	return a
}

// getLoad is a GET of target over keep-alive connections (one per worker).
func getLoad(target string, workers int) Op {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		MaxIdleConns: workers, MaxIdleConnsPerHost: workers, DisableCompression: true,
	}}
	return Timed(func(ctx context.Context, _ int) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: status %d", target, resp.StatusCode)
		}
		return nil
	})
}

func waitServed(ctx context.Context, target string, within time.Duration) error {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(within)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s not answering 200 after %s", target, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// member is a backend: an HTTP server on 127.0.0.1 answering its name.
type member struct {
	name string
	port int
	url  string
	srv  *http.Server
}

func startMember(name string) (*member, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	m := &member{name: name, port: ln.Addr().(*net.TCPAddr).Port}
	m.url = "http://127.0.0.1:" + strconv.Itoa(m.port) + "/"
	m.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, name)
	})}
	go m.srv.Serve(ln) //nolint:errcheck // ends with Close
	return m, nil
}

func (m *member) stop() { _ = m.srv.Close() }

func freeUDP() (string, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.LocalAddr().String(), nil
}

func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// procsMatching lists the live processes whose command line contains s.
func procsMatching(s string) []int {
	var out []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil || pid == os.Getpid() {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err == nil && strings.Contains(strings.ReplaceAll(string(raw), "\x00", " "), s) {
			out = append(out, pid)
		}
	}
	return out
}

// killProcs is kill -9 of every process whose command line contains s (an
// amphora's working directory: its agent and HAProxy); it returns how many.
func killProcs(s string) int {
	n := 0
	for _, pid := range procsMatching(s) {
		if err := syscall.Kill(pid, syscall.SIGKILL); err == nil {
			n++
		}
	}
	return n
}

// stopAmphorae ends the amphorae left in a data directory: SIGTERM (each
// agent stops its HAProxy), then SIGKILL after 5 s.
func stopAmphorae(dataDir string) {
	dir := filepath.Join(dataDir, "amphorae") + "/"
	for _, pid := range procsMatching(dir) {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(procsMatching(dir)) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	killProcs(dir)
}
