package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"syscall"
	"testing"
	"time"
)

// graph is a load balancer with a listener, a pool and two members, all ACTIVE.
type graph struct {
	lb, listener, pool string
	members            []string
}

func buildGraph(t *testing.T, c *rawClient) graph {
	t.Helper()
	post := func(path, root, body string) string {
		t.Helper()
		r := c.do(t, request{Method: http.MethodPost, Path: path, Body: body})
		mustStatus(t, "POST "+path, r, http.StatusCreated)
		return objectAt(t, r, root)["id"].(string)
	}
	var g graph
	g.lb = post("/v2/lbaas/loadbalancers", "loadbalancer",
		`{"loadbalancer": {"name": "keep", "vip_subnet_id": "`+defaultSubnet+`", "tags": ["a", "b"]}}`)
	waitActive(t, c, g.lb)
	g.listener = post("/v2/lbaas/listeners", "listener",
		`{"listener": {"name": "l", "loadbalancer_id": "`+g.lb+`", "protocol": "HTTP", "protocol_port": 80}}`)
	waitActive(t, c, g.lb)
	g.pool = post("/v2/lbaas/pools", "pool",
		`{"pool": {"name": "p", "listener_id": "`+g.listener+`", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}}`)
	waitActive(t, c, g.lb)
	for i := 1; i <= 2; i++ {
		g.members = append(g.members, post("/v2/lbaas/pools/"+g.pool+"/members", "member",
			fmt.Sprintf(`{"member": {"name": "m%d", "address": "127.0.0.%d", "protocol_port": 8080}}`, i, 20+i)))
		waitActive(t, c, g.lb)
	}
	// An update, so updated_at is set and survives too.
	r := c.do(t, request{Method: http.MethodPut, Path: "/v2/lbaas/loadbalancers/" + g.lb, Body: `{"loadbalancer": {"description": "before restart"}}`})
	mustStatus(t, "PUT lb", r, http.StatusOK)
	waitActive(t, c, g.lb)
	return g
}

// snapshot is every GET body that must survive a restart unchanged, decoded.
func snapshot(t *testing.T, c *rawClient, g graph) map[string]any {
	t.Helper()
	paths := []string{
		"/v2/lbaas/loadbalancers/" + g.lb,
		"/v2/lbaas/loadbalancers/" + g.lb + "/status",
		"/v2/lbaas/loadbalancers",
		"/v2/lbaas/listeners/" + g.listener,
		"/v2/lbaas/listeners",
		"/v2/lbaas/pools/" + g.pool,
		"/v2/lbaas/pools/" + g.pool + "/members",
	}
	for _, m := range g.members {
		paths = append(paths, "/v2/lbaas/pools/"+g.pool+"/members/"+m)
	}
	snap := map[string]any{}
	for _, p := range paths {
		r := c.get(t, p)
		mustStatus(t, "GET "+p, r, http.StatusOK)
		var v any
		if err := json.Unmarshal(r.Body, &v); err != nil {
			t.Fatalf("GET %s: %v", p, err)
		}
		snap[p] = v
	}
	return snap
}

func TestRestartKeepsState(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, serverOptions{})
			c := newRawClient(srv.URL, projectA)
			g := buildGraph(t, c)
			before := snapshot(t, c, g)

			err := srv.stop(sig)
			if sig != syscall.SIGKILL && exitCode(err) != 0 {
				t.Errorf("exit after %v: %v, want status 0", sig, err)
			}
			srv.restart(serverOptions{})

			after := snapshot(t, c, g)
			for p, b := range before {
				if !reflect.DeepEqual(b, after[p]) {
					t.Errorf("GET %s changed across restart:\nbefore %s\nafter  %s", p, mustJSON(t, b), mustJSON(t, after[p]))
				}
			}
			// The store goes on from where it was: a write after the restart works.
			r := c.do(t, request{Method: http.MethodPut, Path: "/v2/lbaas/loadbalancers/" + g.lb, Body: `{"loadbalancer": {"name": "after"}}`})
			mustStatus(t, "PUT lb after restart", r, http.StatusOK)
			wantFields(t, "lb after restart and update", waitActive(t, c, g.lb), map[string]any{"name": "after", "description": "before restart"})
		})
	}
}

// TestRestartResumesSaga kills the server while a create is in flight: after
// a restart the saga finishes (bounded), once.
func TestRestartResumesSaga(t *testing.T) {
	t.Parallel()
	srv := startServer(t, serverOptions{NoopDelay: 2 * time.Second})
	c := newRawClient(srv.URL, projectA)
	r := c.do(t, request{Method: http.MethodPost, Path: "/v2/lbaas/loadbalancers",
		Body: `{"loadbalancer": {"name": "inflight", "vip_subnet_id": "` + defaultSubnet + `"}}`})
	mustStatus(t, "create lb", r, http.StatusCreated)
	created := objectAt(t, r, "loadbalancer")
	lbID := created["id"].(string)
	lbPath := "/v2/lbaas/loadbalancers/" + lbID
	wantFields(t, "lb before kill", objectAt(t, c.get(t, lbPath), "loadbalancer"), map[string]any{"provisioning_status": "PENDING_CREATE"})

	_ = srv.stop(syscall.SIGKILL)
	srv.restart(serverOptions{})

	lb := waitActive(t, c, lbID)
	wantFields(t, "resumed lb", lb, map[string]any{
		"name": "inflight", "created_at": created["created_at"], "vip_subnet_id": defaultSubnet, "operating_status": "OFFLINE",
	})
	if s, _ := lb["vip_address"].(string); s == "" {
		t.Errorf("resumed lb has no vip_address: %s", mustJSON(t, lb))
	}
	if all := listAt(t, c.get(t, "/v2/lbaas/loadbalancers"), "loadbalancers"); len(all) != 1 {
		t.Errorf("%d load balancers after the resumed create, want 1: %s", len(all), mustJSON(t, all))
	}
	// Octavia's admin amphora API, if served, shows one amphora (SINGLE topology).
	if r := c.get(t, "/v2/octavia/amphorae?loadbalancer_id="+lbID); r.Status == http.StatusOK {
		if amps := listAt(t, r, "amphorae"); len(amps) != 1 {
			t.Errorf("%d amphorae for the resumed load balancer, want 1: %s", len(amps), r)
		}
	} else {
		t.Logf("amphora API not served (%d); the single amphora is not checked", r.Status)
	}

	tree := objectAt(t, c.get(t, lbPath+"/status"), "statuses")
	wantFields(t, "status tree of the resumed lb", tree["loadbalancer"].(map[string]any), map[string]any{
		"id": lbID, "provisioning_status": "ACTIVE", "listeners": []any{},
	})

	// Settled for good: another restart neither re-provisions nor changes it.
	// This one is slow again, for the next in-flight change.
	if err := srv.stop(syscall.SIGTERM); exitCode(err) != 0 {
		t.Errorf("exit after SIGTERM: %v, want status 0", err)
	}
	srv.restart(serverOptions{NoopDelay: 2 * time.Second})
	again := objectAt(t, c.get(t, lbPath), "loadbalancer")
	if !reflect.DeepEqual(again, lb) {
		t.Errorf("lb changed across a quiet restart:\nbefore %s\nafter  %s", mustJSON(t, lb), mustJSON(t, again))
	}

	// A child change in flight: killed while the listener's configuration is
	// being pushed, it settles after the restart.
	r = c.do(t, request{Method: http.MethodPost, Path: "/v2/lbaas/listeners",
		Body: `{"listener": {"name": "inflight", "loadbalancer_id": "` + lbID + `", "protocol": "TCP", "protocol_port": 443}}`})
	mustStatus(t, "create listener", r, http.StatusCreated)
	lnPath := "/v2/lbaas/listeners/" + objectAt(t, r, "listener")["id"].(string)
	wantFields(t, "lb before kill", objectAt(t, c.get(t, lbPath), "loadbalancer"), map[string]any{"provisioning_status": "PENDING_UPDATE"})
	_ = srv.stop(syscall.SIGKILL)
	srv.restart(serverOptions{})
	lb = waitActive(t, c, lbID)
	wantFields(t, "resumed listener", objectAt(t, c.get(t, lnPath), "listener"), map[string]any{"provisioning_status": "ACTIVE", "protocol_port": 443})
	if lb["vip_address"] != again["vip_address"] {
		t.Errorf("vip_address changed by a listener change: %v -> %v", again["vip_address"], lb["vip_address"])
	}
	if all := listAt(t, c.get(t, "/v2/lbaas/listeners"), "listeners"); len(all) != 1 {
		t.Errorf("%d listeners after the resumed create, want 1: %s", len(all), mustJSON(t, all))
	}
}
