package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The invocation is the plain one, unchanged:
//
//	openstack --os-auth-type none --os-endpoint URL loadbalancer ...
//
// keystoneauth's "none" plugin sends only `X-Auth-Token: notused`: no
// X-Project-Id (it even rejects --os-project-id: "FixedEndpointPlugin got an
// unexpected keyword argument 'project_id'"), and `loadbalancer create
// --project P` first looks P up in Keystone at the same endpoint, which
// fails. Real Octavia therefore answers that create with 400 "Missing project
// ID"; octavia-es gives such requests api.noauth_default_project ("default")
// unless it is set to "", when it answers as Octavia does. Both are checked.
//
// The CLI resolves --vip-subnet-id through Neutron's GET /v2.0/subnets?id=X
// at the same endpoint, which octavia-es answers for its own subnets.
const cliDefaultProject = "default"

// cliTimeout bounds one CLI run; --wait polls every 3 s.
const cliTimeout = 60 * time.Second

type cli struct {
	t        *testing.T
	endpoint string
}

// openstackCLI finds the CLI: a missing one skips the test on a developer's
// machine and fails it in CI (CI=true), where .ci/run installs it.
func openstackCLI(t *testing.T, endpoint string) *cli {
	t.Helper()
	if _, err := exec.LookPath("openstack"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the openstack CLI is not installed (python3-openstackclient, python3-octaviaclient): %v", err)
		}
		t.Skipf("the openstack CLI is not installed: %v", err)
	}
	return &cli{t: t, endpoint: endpoint}
}

// run executes one command and returns stdout; a failure fails the test
// with both outputs.
func (c *cli) run(args ...string) []byte {
	c.t.Helper()
	out, errOut, err := c.exec(args...)
	if err != nil {
		c.t.Fatalf("openstack %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// fails executes a command that must exit non-zero and returns its stderr.
func (c *cli) fails(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.exec(args...)
	if err == nil {
		c.t.Fatalf("openstack %s succeeded, want a failure; stdout:\n%s", strings.Join(args, " "), out)
	}
	return string(errOut)
}

func (c *cli) exec(args ...string) (stdout, stderr []byte, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	full := append([]string{"--os-auth-type", "none", "--os-endpoint", c.endpoint}, args...)
	cmd := exec.CommandContext(ctx, "openstack", full...)
	for _, kv := range os.Environ() {
		// A developer's OS_CLOUD, OS_AUTH_URL … would change what the CLI does.
		if !strings.HasPrefix(kv, "OS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %s: %w", cliTimeout, err)
	}
	return o.Bytes(), e.Bytes(), err
}

// object runs a command with -f json that prints one object.
func (c *cli) object(args ...string) map[string]any {
	c.t.Helper()
	out := c.run(append(args, "-f", "json")...)
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		c.t.Fatalf("openstack %s: output is not a JSON object (%v):\n%s", strings.Join(args, " "), err, out)
	}
	return m
}

// list runs a command with -f json that prints rows.
func (c *cli) list(args ...string) []map[string]any {
	c.t.Helper()
	out := c.run(append(args, "-f", "json")...)
	var rows []map[string]any
	if err := json.Unmarshal(out, &rows); err != nil {
		c.t.Fatalf("openstack %s: output is not a JSON list (%v):\n%s", strings.Join(args, " "), err, out)
	}
	return rows
}

// wantRow checks that rows hold exactly one row with this id and name.
func wantRow(t *testing.T, what string, rows []map[string]any, id, name string) {
	t.Helper()
	found := 0
	for _, r := range rows {
		if r["id"] == id {
			found++
			if r["name"] != name {
				t.Errorf("%s: row %s has name %v, want %s", what, id, r["name"], name)
			}
		}
	}
	if found != 1 {
		t.Errorf("%s: %d rows with id %s, want 1: %v", what, found, id, rows)
	}
}

func TestCLI(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{})
	osc := openstackCLI(t, srv.URL)
	api := newRawClient(srv.URL, "")

	lb := osc.object("loadbalancer", "create", "--name", "lb1", "--vip-subnet-id", defaultSubnet, "--wait")
	wantFields(t, "loadbalancer create --wait", lb, map[string]any{
		"name": "lb1", "provisioning_status": "ACTIVE", "operating_status": "OFFLINE",
		"vip_subnet_id": defaultSubnet, "vip_network_id": defaultNetwork, "project_id": cliDefaultProject,
	})
	lbID, _ := lb["id"].(string)

	ln := osc.object("loadbalancer", "listener", "create", "--name", "l1", "--protocol", "HTTP", "--protocol-port", "80", "--wait", "lb1")
	wantFields(t, "listener create --wait", ln, map[string]any{"name": "l1", "provisioning_status": "ACTIVE", "protocol": "HTTP", "protocol_port": 80})
	pool := osc.object("loadbalancer", "pool", "create", "--name", "p1", "--listener", "l1", "--protocol", "HTTP", "--lb-algorithm", "ROUND_ROBIN", "--wait")
	wantFields(t, "pool create --wait", pool, map[string]any{"name": "p1", "provisioning_status": "ACTIVE", "lb_algorithm": "ROUND_ROBIN"})
	member := osc.object("loadbalancer", "member", "create", "--name", "m1", "--address", "127.0.0.11", "--protocol-port", "8080", "--wait", "p1")
	wantFields(t, "member create --wait", member, map[string]any{"name": "m1", "provisioning_status": "ACTIVE", "address": "127.0.0.11", "protocol_port": 8080, "weight": 1})
	hm := osc.object("loadbalancer", "healthmonitor", "create", "--name", "hm1", "--delay", "5", "--timeout", "3", "--max-retries", "3", "--type", "HTTP", "--wait", "p1")
	wantFields(t, "healthmonitor create --wait", hm, map[string]any{"name": "hm1", "provisioning_status": "ACTIVE", "type": "HTTP", "delay": 5})
	lnID, _ := ln["id"].(string)
	poolID, _ := pool["id"].(string)
	memberID, _ := member["id"].(string)
	hmID, _ := hm["id"].(string)

	// set (waiting over HTTP, which is quicker than --wait's 3 s sleeps), then show.
	sets := []struct {
		set, show []string
		field     string
		want      any
	}{
		{[]string{"loadbalancer", "set", "--description", "via cli", "lb1"}, []string{"loadbalancer", "show", "lb1"}, "description", "via cli"},
		{[]string{"loadbalancer", "listener", "set", "--connection-limit", "100", "l1"}, []string{"loadbalancer", "listener", "show", "l1"}, "connection_limit", 100},
		{[]string{"loadbalancer", "pool", "set", "--lb-algorithm", "LEAST_CONNECTIONS", "p1"}, []string{"loadbalancer", "pool", "show", "p1"}, "lb_algorithm", "LEAST_CONNECTIONS"},
		{[]string{"loadbalancer", "member", "set", "--weight", "5", "p1", "m1"}, []string{"loadbalancer", "member", "show", "p1", "m1"}, "weight", 5},
		{[]string{"loadbalancer", "healthmonitor", "set", "--delay", "10", "hm1"}, []string{"loadbalancer", "healthmonitor", "show", "hm1"}, "delay", 10},
	}
	for _, s := range sets {
		osc.run(s.set...)
		waitActive(t, api, lbID)
		shown := osc.object(s.show...)
		wantFields(t, strings.Join(s.show, " "), shown, map[string]any{s.field: s.want, "provisioning_status": "ACTIVE"})
	}

	wantRow(t, "loadbalancer list", osc.list("loadbalancer", "list"), lbID, "lb1")
	wantRow(t, "listener list", osc.list("loadbalancer", "listener", "list", "--loadbalancer", "lb1"), lnID, "l1")
	wantRow(t, "pool list", osc.list("loadbalancer", "pool", "list", "--loadbalancer", "lb1"), poolID, "p1")
	wantRow(t, "member list", osc.list("loadbalancer", "member", "list", "p1"), memberID, "m1")
	wantRow(t, "healthmonitor list", osc.list("loadbalancer", "healthmonitor", "list"), hmID, "hm1")

	var statuses map[string]any
	if out := osc.run("loadbalancer", "status", "show", "lb1"); json.Unmarshal(out, &statuses) != nil {
		t.Fatalf("status show: not JSON:\n%s", out)
	}
	tree, _ := statuses["loadbalancer"].(map[string]any)
	wantFields(t, "status show", tree, map[string]any{"id": lbID, "name": "lb1", "provisioning_status": "ACTIVE", "operating_status": "OFFLINE"})
	if got := mustJSON(t, tree); !strings.Contains(got, memberID) || !strings.Contains(got, hmID) || !strings.Contains(got, poolID) {
		t.Errorf("status show lacks the pool, member or monitor: %s", got)
	}
	stats := osc.object("loadbalancer", "stats", "show", "lb1")
	wantFields(t, "stats show", stats, map[string]any{"active_connections": 0, "bytes_in": 0, "bytes_out": 0, "request_errors": 0, "total_connections": 0})

	// Children one by one (waiting over HTTP), then the rest by cascade.
	osc.run("loadbalancer", "member", "delete", "p1", "m1")
	waitGone(t, api, "/v2/lbaas/pools/"+poolID+"/members/"+memberID)
	osc.run("loadbalancer", "healthmonitor", "delete", "hm1")
	waitGone(t, api, "/v2/lbaas/healthmonitors/"+hmID)
	waitActive(t, api, lbID)
	if rows := osc.list("loadbalancer", "member", "list", "p1"); len(rows) != 0 {
		t.Errorf("member list after delete: %v", rows)
	}
	osc.run("loadbalancer", "delete", "--cascade", "--wait", "lb1")
	if rows := osc.list("loadbalancer", "list"); len(rows) != 0 {
		t.Errorf("loadbalancer list after cascade delete: %v", rows)
	}
	for _, path := range []string{"/v2/lbaas/loadbalancers/" + lbID, "/v2/lbaas/listeners/" + lnID, "/v2/lbaas/pools/" + poolID} {
		mustStatus(t, "GET "+path+" after cascade delete", api.get(t, path), http.StatusNotFound)
	}
}

// TestCLIWithoutDefaultProject: with api.noauth_default_project "" the CLI's
// project-less create is refused exactly as real Octavia refuses it.
func TestCLIWithoutDefaultProject(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{Env: []string{"OCTAVIA_ES_API_NOAUTH_DEFAULT_PROJECT="}})
	osc := openstackCLI(t, srv.URL)
	stderr := osc.fails("loadbalancer", "create", "--name", "lb1", "--vip-subnet-id", defaultSubnet, "-f", "json")
	if !strings.Contains(stderr, "Missing project ID in request where one is required.") {
		t.Errorf("stderr %q, want Octavia's Missing project ID message", stderr)
	}
	// The same over HTTP: 400 with Octavia's validation body; a header still works.
	body := `{"loadbalancer": {"vip_subnet_id": "` + defaultSubnet + `"}}`
	wantFault(t, "create without project", newRawClient(srv.URL, "").do(t, request{Method: http.MethodPost, Path: "/v2/lbaas/loadbalancers", Body: body}),
		http.StatusBadRequest, "Validation failure: Missing project ID in request where one is required.")
	mustStatus(t, "create with X-Project-Id", newRawClient(srv.URL, projectA).do(t, request{Method: http.MethodPost, Path: "/v2/lbaas/loadbalancers", Body: body}), http.StatusCreated)
}
