package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAmphoraAgentConfigUpdate: PUT /v2/octavia/amphorae/{id}/config with
// nothing changed in the controller's configuration → 202; the agent
// rewrites its agent.yaml (a new file, same settings) and keeps sending
// heartbeats (no failover, statuses and traffic unchanged); the outcome is
// an event. An unknown amphora is Octavia's 404.
func TestAmphoraAgentConfigUpdate(t *testing.T) {
	t.Parallel()
	srv := startLocalServer(t)
	c := newRawClient(srv.URL, "p-agent-config")
	one := startBackend(t, "one")
	s := createStack(t, c, httpListener("web", 0, httpPool("web-pool", "ROUND_ROBIN", one)))
	waitOperating(t, c, s.lb, waitTimeout, s.allOnline())
	amp := amphoraOf(t, c, s.lb)["id"].(string)
	agentYAML := filepath.Join(amphoraeDir(srv.dataDir), amp, "agent.yaml")
	before, err := os.ReadFile(agentYAML)
	noErr(t, "read agent.yaml", err)
	inode := func() uint64 {
		st, err := os.Stat(agentYAML)
		noErr(t, "stat agent.yaml", err)
		return st.Sys().(*syscall.Stat_t).Ino
	}
	oldInode := inode()

	start := time.Now()
	r := c.do(t, request{Method: http.MethodPut, Path: "/v2/octavia/amphorae/" + amp + "/config"})
	mustStatus(t, "update amphora config", r, http.StatusAccepted)
	if len(r.Body) != 0 {
		t.Errorf("202 with a body: %s", r)
	}
	poll(t, "the agent configuration update recorded", func() (bool, string) {
		evs := lbEvents(t, c, s.lb)
		i := slices.Index(evs, "amphora.agent_config_update_requested")
		return i >= 0 && slices.Contains(evs[i:], "amphora.agent_config_updated"), strings.Join(evs, " ")
	})
	t.Logf("PUT config → amphora.agent_config_updated in %s", time.Since(start).Round(time.Millisecond))
	if inode() == oldInode {
		t.Fatal("agent.yaml was not rewritten")
	}
	after, err := os.ReadFile(agentYAML)
	noErr(t, "read agent.yaml", err)
	if string(after) != string(before) {
		t.Errorf("nothing changed, yet agent.yaml differs:\n%s\nwas\n%s", after, before)
	}
	if !strings.Contains(string(after), srv.heartbeat) || !strings.Contains(string(after), "amphora_id: "+amp) {
		t.Errorf("agent.yaml:\n%s", after)
	}

	// Heartbeats continue: past heartbeat_timeout the amphora was not
	// failed over, the load balancer is still ACTIVE and ONLINE, traffic flows.
	time.Sleep(heartbeatTimeout + heartbeatInterval)
	if now := amphoraOf(t, c, s.lb)["id"].(string); now != amp {
		t.Fatalf("amphora %s replaced by %s: heartbeats stopped", amp, now)
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

	unknown := "0f0e0d0c-0000-4000-8000-0000000000ff"
	r = c.do(t, request{Method: http.MethodPut, Path: "/v2/octavia/amphorae/" + unknown + "/config"})
	wantFault(t, "unknown amphora", r, http.StatusNotFound, "Amphora "+unknown+" not found.")
}
