package v2_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/projections"
)

func TestAmphoraAdminAPI(t *testing.T) {
	e := newEnv(t)
	amp := "9a0a3d55-6f11-4a7b-9f43-0b7c2c1d2e3f"
	lb := lbID
	e.read.Amphorae[amp] = projections.AmphoraView{ID: amp, LoadBalancerID: &lb, Status: "ALLOCATED"}
	e.read.AmphoraStatsOf[amp] = []projections.AmphoraStatsView{{ID: amp, LoadBalancerID: lb, BytesIn: 7}}

	r := e.do(http.MethodGet, "/v2/octavia/amphorae", "")
	if r.Code != http.StatusOK || !strings.Contains(r.Body.String(), `"amphorae":[{"id":"`+amp) || !strings.Contains(r.Body.String(), `"amphorae_links":[]`) {
		t.Fatalf("list: %d %s", r.Code, r.Body)
	}
	r = e.do(http.MethodGet, "/v2/octavia/amphorae/"+amp+"?fields=id&fields=status", "")
	if r.Code != http.StatusOK || r.Body.String() != `{"amphora":{"id":"`+amp+`","status":"ALLOCATED"}}`+"\n" {
		t.Fatalf("get with fields: %d %s", r.Code, r.Body)
	}
	r = e.do(http.MethodGet, "/v2/octavia/amphorae/"+amp+"/stats", "")
	if r.Code != http.StatusOK || !strings.Contains(r.Body.String(), `"amphora_stats":[{`) || !strings.Contains(r.Body.String(), `"bytes_in":7`) {
		t.Fatalf("stats: %d %s", r.Code, r.Body)
	}
	e.do(http.MethodGet, "/v2/octavia/amphorae/nope/stats", "").expectFault(http.StatusNotFound, "Amphora stats for nope not found.")
	e.do(http.MethodGet, "/v2/octavia/amphorae/nope", "").expectFault(http.StatusNotFound, "Amphora nope not found.")

	if r = e.do(http.MethodPut, "/v2/octavia/amphorae/"+amp+"/failover", ""); r.Code != http.StatusAccepted {
		t.Fatalf("failover: %d %s", r.Code, r.Body)
	}
	if c := e.cmds.LastCall(); c.LoadBalancerID != lbID {
		t.Fatalf("failover issued on %q", c.LoadBalancerID)
	} else if _, ok := c.Command.(loadbalancer.FailoverLoadBalancer); !ok {
		t.Fatalf("issued %T", c.Command)
	}

	// config: recorded on the amphora's load balancer, 202 without a body.
	if r = e.do(http.MethodPut, "/v2/octavia/amphorae/"+amp+"/config", ""); r.Code != http.StatusAccepted || r.Body.Len() != 0 {
		t.Fatalf("config: %d %q", r.Code, r.Body)
	}
	if c := e.cmds.LastCall(); c.LoadBalancerID != lbID || c.Command != (loadbalancer.UpdateAmphoraAgentConfig{AmphoraID: amp}) {
		t.Fatalf("config issued %+v", c)
	}
	calls := e.cmds.CallCount()
	e.do(http.MethodPut, "/v2/octavia/amphorae/nope/config", "").expectFault(http.StatusNotFound, "Amphora nope not found.")
	spare := "5b1c2d3e-0000-4000-8000-00000000abcd" // no load balancer
	e.read.Amphorae[spare] = projections.AmphoraView{ID: spare, Status: "READY"}
	e.do(http.MethodPut, "/v2/octavia/amphorae/"+spare+"/config", "").expectFault(http.StatusNotFound, "Amphora "+spare+" not found.")
	if e.cmds.CallCount() != calls {
		t.Fatal("a refused config request issued a command")
	}
}
