package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests of this file run real amphorae: the server's local compute
// driver starts `octavia-es amphora-agent` processes, each running HAProxy
// on a loopback VIP, sending heartbeats to the server's health manager.
// Members are HTTP servers of the test process.

// TestAmphoraRoundRobinAndMemberHealth: requests to the VIP reach the three
// members in turn; a member whose server stops is ERROR and the load
// balancer DEGRADED within delay × max_retries_down + 1 s (+ one heartbeat
// interval: the status travels in the next heartbeat), and gets no traffic;
// started again it is ONLINE and serves again.
func TestAmphoraRoundRobinAndMemberHealth(t *testing.T) {
	t.Parallel()
	srv := startLocalServer(t)
	c := newRawClient(srv.URL, "p-rr")
	one, two, three := startBackend(t, "one"), startBackend(t, "two"), startBackend(t, "three")
	s := createStack(t, c, httpListener("web", 0, httpPool("web-pool", "ROUND_ROBIN", one, two, three)))
	if s.vip != srv.vipNet.Addr().Next().Next().String() {
		t.Errorf("VIP %s: want the subnet's first address after its gateway", s.vip)
	}
	waitOperating(t, c, s.lb, waitTimeout, s.allOnline())
	vip := newVIPClient(s.vip, listenerPort)

	got := vip.answers(t, 9)
	if n := count(got); n["one"] != 3 || n["two"] != 3 || n["three"] != 3 {
		t.Fatalf("9 requests answered by %v, want 3 each", n)
	}
	for i := 3; i < len(got); i++ {
		if got[i] != got[i-3] || got[i] == got[i-1] {
			t.Fatalf("answers %v are not in turn", got)
		}
	}

	// delay 1 s × max_retries_down 1 + 1 s, + the heartbeat interval.
	bound := 1*time.Second + time.Second + heartbeatInterval
	two.stop()
	took := waitOperating(t, c, s.lb, bound, map[string]string{
		// As Octavia's UpdateHealthDb: the listener's status is its
		// frontend's (still OPEN), the pool's and the load balancer's follow
		// the member.
		s.members["two"]: "ERROR", s.pools["web-pool"]: "DEGRADED", s.listeners["web"]: "ONLINE", s.lb: "DEGRADED",
	})
	t.Logf("member down → ERROR / load balancer DEGRADED in %s (bound %s)", took.Round(time.Millisecond), bound)
	if n := count(vip.answers(t, 8)); n["two"] != 0 || n["one"] != 4 || n["three"] != 4 {
		t.Fatalf("with member two down: answers %v, want one and three 4 each", n)
	}

	two.start(t)
	took = waitOperating(t, c, s.lb, bound+time.Second, s.allOnline()) // rise: max_retries 1
	t.Logf("member back → ONLINE in %s", took.Round(time.Millisecond))
	if n := count(vip.answers(t, 9)); n["one"] != 3 || n["two"] != 3 || n["three"] != 3 {
		t.Fatalf("member two back: answers %v, want 3 each", n)
	}
}

// TestAmphoraFailoverAfterKill: kill -9 of the amphora (agent and HAProxy)
// → the health manager misses its heartbeats and fails the load balancer
// over: traffic and statuses are back within heartbeat_timeout + 2 s, on a
// new amphora, and the events tell the story.
func TestAmphoraFailoverAfterKill(t *testing.T) {
	t.Parallel()
	srv := startLocalServer(t)
	c := newRawClient(srv.URL, "p-failover")
	one, two := startBackend(t, "one"), startBackend(t, "two")
	s := createStack(t, c, httpListener("web", 0, httpPool("web-pool", "ROUND_ROBIN", one, two)))
	waitOperating(t, c, s.lb, waitTimeout, s.allOnline())
	vip := newVIPClient(s.vip, listenerPort)
	vip.answers(t, 2)
	old := amphoraOf(t, c, s.lb)["id"].(string)

	killed := killAmphora(t, srv.dataDir, old)
	start := time.Now()
	bound := heartbeatTimeout + 2*time.Second
	var served time.Duration
	var newAmp string
	for {
		if served == 0 {
			if _, err := vip.get("/"); err == nil {
				served = time.Since(start)
			}
		}
		if served != 0 {
			lb := objectAt(t, c.get(t, "/v2/lbaas/loadbalancers/"+s.lb), "loadbalancer")
			if lb["provisioning_status"] == "ACTIVE" && lb["operating_status"] == "ONLINE" {
				if id := amphoraOf(t, c, s.lb)["id"].(string); id != old {
					newAmp = id
					break
				}
			}
		}
		if time.Since(start) > bound {
			t.Fatalf("not failed over within %s (traffic back after %s); killed %v", bound, served, killed)
		}
		time.Sleep(pollInterval)
	}
	took := time.Since(start)
	t.Logf("kill -9 → traffic back in %s, ACTIVE/ONLINE on amphora %s in %s (bound %s)",
		served.Round(time.Millisecond), newAmp, took.Round(time.Millisecond), bound)
	if n := count(vip.answers(t, 4)); n["one"] != 2 || n["two"] != 2 {
		t.Fatalf("after failover: answers %v, want both members in turn", n)
	}

	evs := lbEvents(t, c, s.lb)
	i := slices.Index(evs, "loadbalancer.failover_requested")
	if i < 0 || !slices.Contains(evs[i:], "amphora.booted") || !slices.Contains(evs[i:], "amphora.deleted") ||
		!slices.Contains(evs[i:], "loadbalancer.activated") && !slices.Contains(evs[i:], "loadbalancer.configuration_applied") {
		t.Fatalf("events %v: want a failover request, then an amphora booted, one deleted and the load balancer active again", evs)
	}
	if left := procsMatching(amphoraeDir(srv.dataDir) + old + "/"); len(left) > 0 {
		t.Errorf("processes of the failed amphora remain: %v", left)
	}
	if _, err := vip.get("/"); err != nil {
		t.Fatal(err)
	}
}

// TestAmphoraPoolChangesUnderLoad: members added, re-weighted and removed
// while requests run (each on its own connection): HAProxy reloads
// seamlessly, not one request fails.
func TestAmphoraPoolChangesUnderLoad(t *testing.T) {
	t.Parallel()
	srv := startLocalServer(t)
	c := newRawClient(srv.URL, "p-load")
	one, two, three := startBackend(t, "one"), startBackend(t, "two"), startBackend(t, "three")
	s := createStack(t, c, httpListener("web", 0, httpPool("web-pool", "ROUND_ROBIN", one, two)))
	waitOperating(t, c, s.lb, waitTimeout, s.allOnline())
	vip := newVIPClient(s.vip, listenerPort)
	pool := "/v2/lbaas/pools/" + s.pools["web-pool"] + "/members"

	load := startLoad(vip, 3)
	change := func(what string, req request, want int) {
		t.Helper()
		mustStatus(t, what, c.do(t, req), want)
		waitActive(t, c, s.lb)
		time.Sleep(200 * time.Millisecond) // requests on the new configuration too
	}
	time.Sleep(200 * time.Millisecond)
	change("add member three", request{Method: http.MethodPost, Path: pool,
		Body: mustJSON(t, map[string]any{"member": member(three)})}, http.StatusCreated)
	change("weight 5 on member one", request{Method: http.MethodPut, Path: pool + "/" + s.members["one"],
		Body: `{"member": {"weight": 5}}`}, http.StatusOK)
	change("remove member two", request{Method: http.MethodDelete, Path: pool + "/" + s.members["two"]}, http.StatusNoContent)
	ok, failed := load.stop()

	t.Logf("%d requests during 3 pool changes, %d failed", ok+len(failed), len(failed))
	if len(failed) > 0 {
		t.Fatalf("%d of %d requests failed during pool changes, e.g. %v", len(failed), ok+len(failed), failed[:min(len(failed), 5)])
	}
	if ok < 100 {
		t.Fatalf("only %d requests ran: the load did not load", ok)
	}
	n := count(vip.answers(t, 12))
	if n["two"] != 0 || n["one"] != 10 || n["three"] != 2 {
		t.Fatalf("after the changes: answers %v, want one and three 5:1 (10 and 2), none from two", n)
	}
}

// load runs requests in parallel until stopped.
type load struct {
	stopc chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	ok    int
	fails []string
}

func startLoad(vip *vipClient, workers int) *load {
	l := &load{stopc: make(chan struct{}), done: make(chan struct{})}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				select {
				case <-l.stopc:
					return
				default:
				}
				_, err := vip.get("/")
				l.mu.Lock()
				if err != nil {
					l.fails = append(l.fails, err.Error())
				} else {
					l.ok++
				}
				l.mu.Unlock()
				time.Sleep(2 * time.Millisecond) // bounded: other tests share the CPUs
			}
		})
	}
	go func() { wg.Wait(); close(l.done) }()
	return l
}

func (l *load) stop() (int, []string) {
	close(l.stopc)
	<-l.done
	return l.ok, l.fails
}

// TestAmphoraPersistenceAndLeastConnections: with HTTP_COOKIE a client
// keeping the cookie always reaches the same member (one without it is
// balanced); with SOURCE_IP every request from this host does; with
// LEAST_CONNECTIONS a member busy with a long request gets no new ones while
// others are idle.
func TestAmphoraPersistenceAndLeastConnections(t *testing.T) {
	t.Parallel()
	srv := startLocalServer(t)
	c := newRawClient(srv.URL, "p-persist")
	one, two, three := startBackend(t, "one"), startBackend(t, "two"), startBackend(t, "three")
	withPersistence := func(pool map[string]any, typ string) map[string]any {
		pool["session_persistence"] = map[string]any{"type": typ}
		return pool
	}
	s := createStack(t, c,
		httpListener("cookie", 0, withPersistence(httpPool("cookie-pool", "ROUND_ROBIN", one, two, three), "HTTP_COOKIE")),
		httpListener("source", 1, withPersistence(httpPool("source-pool", "ROUND_ROBIN", one, two, three), "SOURCE_IP")),
		httpListener("leastconn", 2, httpPool("leastconn-pool", "LEAST_CONNECTIONS", one, two, three)),
	)
	waitOperating(t, c, s.lb, waitTimeout, s.allOnline())

	t.Run("HTTP_COOKIE", func(t *testing.T) {
		vip := newVIPClient(s.vip, listenerPort)
		if n := count(vip.answers(t, 3)); len(n) != 3 {
			t.Fatalf("without the cookie: answers %v, want each member once", n)
		}
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		keeping := &http.Client{Jar: jar, Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		var got []string
		for range 9 {
			body, err := vip.getWith(keeping, "/")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, body)
		}
		if n := count(got); len(n) != 1 {
			t.Fatalf("a client keeping the cookie reached %v, want one member", n)
		}
	})

	t.Run("SOURCE_IP", func(t *testing.T) {
		vip := newVIPClient(s.vip, listenerPort+1)
		if n := count(vip.answers(t, 9)); len(n) != 1 {
			t.Fatalf("requests from one address reached %v, want one member", n)
		}
	})

	t.Run("LEAST_CONNECTIONS", func(t *testing.T) {
		vip := newVIPClient(s.vip, listenerPort+2)
		backends := []*backend{one, two, three}
		held := func() (total int, by []string) {
			for _, b := range backends {
				if n := int(b.held.Load()); n > 0 {
					total += n
					by = append(by, b.name)
				}
			}
			return total, by
		}
		results := make(chan error, 2)
		hold := func(want int) []string {
			go func() { _, err := vip.get("/hold"); results <- err }()
			var by []string
			poll(t, "a long request held by a member", func() (bool, string) {
				var n int
				n, by = held()
				return n == want, ""
			})
			return by
		}
		defer func() {
			for _, b := range backends {
				b.releaseHeld()
			}
			for range 2 {
				if err := <-results; err != nil {
					t.Errorf("long request: %v", err)
				}
			}
		}()

		// Short requests one after the other, a moment apart: HAProxy
		// counts a request until its stream ends, slightly after the client
		// has read the answer, and two members with one each would tie.
		shortOnes := func(k int) map[string]int {
			var got []string
			for range k {
				got = append(got, vip.answers(t, 1)...)
				time.Sleep(30 * time.Millisecond)
			}
			return count(got)
		}
		busy := hold(1)
		n := shortOnes(8)
		if n[busy[0]] != 0 || len(n) != 2 {
			t.Fatalf("member %s holds a long request: 8 short ones went to %v, want only the two idle members", busy[0], n)
		}
		busy = hold(2)
		n = shortOnes(6)
		if len(n) != 1 || n[busy[0]] != 0 || n[busy[1]] != 0 {
			t.Fatalf("members %v hold long requests: 6 short ones went to %v, want only the idle member", busy, n)
		}
	})
}

// TestAmphoraStatsAdminAPIAndDelete: traffic shows in the load balancer's
// and the listener's stats (from the heartbeats' counters, without an event
// per heartbeat); the amphora admin API shows the amphora, its stats, and
// fails it over on request; deleting the load balancer stops its amphora.
func TestAmphoraStatsAdminAPIAndDelete(t *testing.T) {
	t.Parallel()
	srv := startLocalServer(t)
	c := newRawClient(srv.URL, "p-stats")
	one, two := startBackend(t, "one"), startBackend(t, "two")
	s := createStack(t, c, httpListener("web", 0, httpPool("web-pool", "ROUND_ROBIN", one, two)))
	waitOperating(t, c, s.lb, waitTimeout, s.allOnline())
	vip := newVIPClient(s.vip, listenerPort)
	before := len(lbEvents(t, c, s.lb))

	const requests = 20
	vip.answers(t, requests)
	statsAt := func(path string) map[string]any {
		return objectAt(t, c.get(t, path), "stats")
	}
	for _, path := range []string{"/v2/lbaas/loadbalancers/" + s.lb + "/stats", "/v2/lbaas/listeners/" + s.listeners["web"] + "/stats"} {
		poll(t, path+" counting the traffic", func() (bool, string) {
			st := statsAt(path)
			return st["total_connections"].(float64) >= requests && st["bytes_in"].(float64) > 0 &&
				st["bytes_out"].(float64) > 0 && st["request_errors"] == 0.0, mustJSON(t, st)
		})
	}
	// Idle heartbeats, then more traffic: counters move, statuses do not,
	// and neither writes an event.
	time.Sleep(2*heartbeatInterval + 500*time.Millisecond)
	vip.answers(t, requests)
	poll(t, "stats after more traffic", func() (bool, string) {
		st := statsAt("/v2/lbaas/loadbalancers/" + s.lb + "/stats")
		return st["total_connections"].(float64) >= 2*requests, mustJSON(t, st)
	})
	time.Sleep(heartbeatInterval + 500*time.Millisecond)
	if after := lbEvents(t, c, s.lb); len(after) != before {
		t.Fatalf("%d events before the traffic and the heartbeats, %d after: %v", before, len(after), after[before:])
	}

	amp := amphoraOf(t, c, s.lb)
	id, _ := amp["id"].(string)
	if amp["status"] != "ALLOCATED" || amp["role"] != "STANDALONE" || amp["lb_network_ip"] != "127.0.0.1" ||
		amp["ha_ip"] != s.vip || amp["compute_id"] == nil || amp["compute_id"] == "" {
		t.Fatalf("amphora %s", mustJSON(t, amp))
	}
	if got := objectAt(t, c.get(t, "/v2/octavia/amphorae/"+id), "amphora"); got["compute_id"] != amp["compute_id"] {
		t.Fatalf("GET amphora %s: %v, listed as %v", id, got, amp)
	}
	r := c.get(t, "/v2/octavia/amphorae/"+id+"/stats")
	mustStatus(t, "amphora stats", r, http.StatusOK)
	ampStats := listAt(t, r, "amphora_stats")
	if len(ampStats) != 1 || ampStats[0]["listener_id"] != s.listeners["web"] || ampStats[0]["loadbalancer_id"] != s.lb ||
		ampStats[0]["total_connections"].(float64) < 2*requests {
		t.Fatalf("amphora stats %s", r)
	}

	// Failover from the admin API: a new amphora serves the VIP.
	start := time.Now()
	mustStatus(t, "failover amphora", c.do(t, request{Method: http.MethodPut, Path: "/v2/octavia/amphorae/" + id + "/failover"}), http.StatusAccepted)
	waitActive(t, c, s.lb)
	newAmp := amphoraOf(t, c, s.lb)["id"].(string)
	if newAmp == id {
		t.Fatalf("failover kept amphora %s", id)
	}
	vip.waitServing(t)
	t.Logf("admin failover: new amphora serving in %s", time.Since(start).Round(time.Millisecond))
	if n := count(vip.answers(t, 4)); n["one"] != 2 || n["two"] != 2 {
		t.Fatalf("after failover: answers %v", n)
	}
	if evs := lbEvents(t, c, s.lb); !slices.Contains(evs[before:], "loadbalancer.failover_requested") {
		t.Fatalf("events %v: no failover", evs)
	}
	if !waitNoProcs(amphoraeDir(srv.dataDir)+id+"/", 5*time.Second) {
		t.Fatalf("the failed-over amphora's processes remain: %v", procsMatching(amphoraeDir(srv.dataDir)+id+"/"))
	}

	// Deleting the load balancer stops its amphora.
	mustStatus(t, "delete load balancer", c.do(t, request{Method: http.MethodDelete, Path: "/v2/lbaas/loadbalancers/" + s.lb + "?cascade=true"}), http.StatusNoContent)
	waitGone(t, c, "/v2/lbaas/loadbalancers/"+s.lb)
	if !waitNoProcs(amphoraeDir(srv.dataDir), 5*time.Second) {
		t.Fatalf("amphora processes remain after the delete: %v", procsMatching(amphoraeDir(srv.dataDir)))
	}
	if _, err := vip.get("/"); err == nil {
		t.Fatal("the VIP still answers after the delete")
	}
}

// TestLocalProviderRefusesUDPAndSCTP: the local amphorae run HAProxy,
// which serves neither UDP nor SCTP: Octavia's unsupported-option answer,
// for a listener of an existing load balancer and inside a graph create;
// nothing is created. (With the noop drivers they are accepted, as by
// Octavia's amphora provider: TestUDPAcceptedByNoopProvider.)
func TestLocalProviderRefusesUDPAndSCTP(t *testing.T) {
	t.Parallel()
	srv := startLocalServer(t)
	c := newRawClient(srv.URL, "p-udp")
	const supported = "Supported: TCP, HTTP, HTTPS, TERMINATED_HTTPS, PROMETHEUS"
	want := func(protocol string) string {
		return `{"faultcode": "Server", "faultstring": "Provider 'amphora' does not support a requested option: Amphora provider does not support ` +
			protocol + ` protocol. ` + supported + `", "debuginfo": null}`
	}
	r := c.do(t, request{Method: http.MethodPost, Path: "/v2/lbaas/loadbalancers", Body: mustJSON(t, map[string]any{"loadbalancer": map[string]any{
		"vip_subnet_id": defaultSubnet, "listeners": []any{map[string]any{"protocol": "UDP", "protocol_port": 53}},
	}})})
	expectJSON(t, "graph create with a UDP listener", r, http.StatusNotImplemented, want("UDP"))
	if lbs := listAt(t, c.get(t, "/v2/lbaas/loadbalancers"), "loadbalancers"); len(lbs) != 0 {
		t.Fatalf("a refused create left %d load balancers", len(lbs))
	}

	s := createStack(t, c)
	for _, protocol := range []string{"UDP", "SCTP"} {
		r := c.do(t, request{Method: http.MethodPost, Path: "/v2/lbaas/listeners", Body: mustJSON(t, map[string]any{"listener": map[string]any{
			"loadbalancer_id": s.lb, "protocol": protocol, "protocol_port": 53,
		}})})
		expectJSON(t, protocol+" listener", r, http.StatusNotImplemented, want(protocol))
	}
	if ls := listAt(t, c.get(t, "/v2/lbaas/listeners"), "listeners"); len(ls) != 0 {
		t.Fatalf("refused creates left %d listeners", len(ls))
	}
}

// TestUDPAcceptedByNoopProvider: with the noop drivers a UDP listener is
// accepted, as Octavia's amphora provider accepts it.
func TestUDPAcceptedByNoopProvider(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{})
	c := newRawClient(srv.URL, "p-udp-noop")
	s := createStack(t, c, map[string]any{"protocol": "UDP", "protocol_port": 53})
	if len(s.listeners) != 1 {
		t.Fatalf("listeners %v", s.listeners)
	}
}

// expectJSON fails unless r has status and a body equal (as JSON) to want.
func expectJSON(t *testing.T, what string, r response, status int, want string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: want HTTP %d, got %s", what, status, r)
	}
	var got, exp any
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatalf("%s: body %s: %v", what, r.Body, err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Fatalf("%s: body %s, want %s", what, r.Body, want)
	}
}

// TestServeExplainsMissingHAProxy: with the default (local) drivers and no
// haproxy on PATH, serve stops at once and says how to install it or how
// to choose the noop drivers.
func TestServeExplainsMissingHAProxy(t *testing.T) {
	t.Parallel()
	var env []string
	for _, kv := range (serverOptions{Local: true}).environ() {
		if !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	env = append(env, "PATH="+t.TempDir()) // nothing in it
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve", "--listen", freeAddr(t), "--data-dir", t.TempDir())
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if exitCode(err) != 1 {
		t.Fatalf("serve without haproxy: %v, want exit status 1; output:\n%s", err, out)
	}
	for _, want := range []string{"cannot start", "apt-get install -y haproxy",
		"OCTAVIA_ES_DRIVERS_COMPUTE=noop OCTAVIA_ES_DRIVERS_NETWORK=noop OCTAVIA_ES_DRIVERS_AMPHORA=noop"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("serve without haproxy does not say %q:\n%s", want, out)
		}
	}
}

// TestAmphoraeOutliveRestart: amphorae outlive the controller, as
// Octavia's: traffic flows while it is down, and the restarted controller
// re-adopts the amphora (no failover) and drives it again.
func TestAmphoraeOutliveRestart(t *testing.T) {
	t.Parallel()
	srv := startLocalServer(t)
	c := newRawClient(srv.URL, "p-restart")
	one, two := startBackend(t, "one"), startBackend(t, "two")
	s := createStack(t, c, httpListener("web", 0, httpPool("web-pool", "ROUND_ROBIN", one)))
	waitOperating(t, c, s.lb, waitTimeout, s.allOnline())
	vip := newVIPClient(s.vip, listenerPort)
	amp := amphoraOf(t, c, s.lb)["id"].(string)

	if err := srv.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if n := count(vip.answers(t, 3)); n["one"] != 3 {
		t.Fatalf("controller down: answers %v", n)
	}
	time.Sleep(heartbeatTimeout) // heartbeats unanswered for longer than the timeout
	srv.restart(serverOptions{Local: true})
	// Past a heartbeat timeout after the restart, the amphora is still the
	// same: adopted, heard, not failed over.
	time.Sleep(heartbeatTimeout + time.Second)
	if got := amphoraOf(t, c, s.lb)["id"]; got != amp {
		t.Fatalf("amphora %v after the restart, want %s kept", got, amp)
	}
	lb := waitActive(t, c, s.lb)
	if lb["operating_status"] != "ONLINE" {
		t.Fatalf("after the restart: %v", lb)
	}
	pool := "/v2/lbaas/pools/" + s.pools["web-pool"] + "/members"
	mustStatus(t, "add a member after the restart", c.do(t, request{Method: http.MethodPost, Path: pool,
		Body: mustJSON(t, map[string]any{"member": member(two)})}), http.StatusCreated)
	waitActive(t, c, s.lb)
	if n := count(vip.answers(t, 4)); n["one"] != 2 || n["two"] != 2 {
		t.Fatalf("the adopted amphora did not take the new member: answers %v", n)
	}
	if evs := lbEvents(t, c, s.lb); slices.Contains(evs, "loadbalancer.failover_requested") {
		t.Fatalf("events %v: a failover", evs)
	}
}
