package v2_test

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/octavia-es/octavia-es/commands/loadbalancer"
	"github.com/octavia-es/octavia-es/events"
)

func hmBody(extra string) string {
	return `{"healthmonitor": {"pool_id": "` + poolID + `", "delay": 5, "timeout": 3, "max_retries": 2` + extra + `}}`
}

func TestCreateHealthMonitorDefaults(t *testing.T) {
	tests := []struct {
		name  string
		extra string
		want  events.HealthMonitor
	}{
		{"HTTP gets Octavia's defaults", `, "type": "HTTP"`, events.HealthMonitor{ID: newID, ProjectID: "tenant-a", PoolID: poolID,
			AdminStateUp: true, Type: "HTTP", Delay: 5, Timeout: 3, MaxRetries: 2, MaxRetriesDown: 3,
			HTTPMethod: ptr("GET"), URLPath: ptr("/"), ExpectedCodes: ptr("200")}},
		{"HTTPS keeps what is given", `, "type": "HTTPS", "http_method": "HEAD", "url_path": "/hc", "expected_codes": "200-204", "max_retries_down": 5,
			"http_version": 1.1, "domain_name": "example.com"`, events.HealthMonitor{ID: newID, ProjectID: "tenant-a", PoolID: poolID,
			AdminStateUp: true, Type: "HTTPS", Delay: 5, Timeout: 3, MaxRetries: 2, MaxRetriesDown: 5,
			HTTPMethod: ptr("HEAD"), URLPath: ptr("/hc"), ExpectedCodes: ptr("200-204"), HTTPVersion: ptr(1.1), DomainName: ptr("example.com")}},
		{"TCP has no HTTP attributes", `, "type": "TCP"`, events.HealthMonitor{ID: newID, ProjectID: "tenant-a", PoolID: poolID,
			AdminStateUp: true, Type: "TCP", Delay: 5, Timeout: 3, MaxRetries: 2, MaxRetriesDown: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.activeGraph()
			hm := e.do(http.MethodPost, "/v2/lbaas/healthmonitors", hmBody(tt.extra)).expectStatus(http.StatusCreated).obj("healthmonitor")
			if hm["provisioning_status"] != "PENDING_CREATE" {
				t.Errorf("body %v", hm)
			}
			call := e.cmds.LastCall()
			if got := call.Command.(loadbalancer.CreateHealthMonitor).Spec; !reflect.DeepEqual(got, tt.want) || call.LoadBalancerID != lbID {
				t.Errorf("spec on %q\n got %+v\nwant %+v", call.LoadBalancerID, got, tt.want)
			}
		})
	}
}

func TestCreateHealthMonitorRefused(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"unknown pool", `{"healthmonitor": {"pool_id": "` + unknownID + `", "type": "TCP", "delay": 1, "timeout": 1, "max_retries": 1}}`, 404,
			"Pool " + unknownID + " not found."},
		{"url path on TCP", hmBody(`, "type": "TCP", "url_path": "/x"`), 400, "url_path is not a valid option for health monitors of type TCP"},
		{"UDP-CONNECT on HTTP pool", hmBody(`, "type": "UDP-CONNECT"`), 400,
			"Validation failure: The UDP-CONNECT type is only supported for pools of type UDP/SCTP."},
		{"domain without version", hmBody(`, "type": "HTTP", "domain_name": "example.com"`), 400,
			"Validation failure: 'http_version' must be specified when 'domain_name' is provided."},
		{"domain with HTTP/1.0", hmBody(`, "type": "HTTP", "domain_name": "example.com", "http_version": 1.0`), 400,
			"http_version 1.0 is not a valid option for health monitors HTTP 1.1 domain name health check"},
		{"null delay", `{"healthmonitor": {"pool_id": "` + poolID + `", "type": "TCP", "delay": null, "timeout": 1, "max_retries": 1}}`, 400,
			"None is not a valid option for delay"},
		{"missing type", `{"healthmonitor": {"pool_id": "` + poolID + `", "delay": 1, "timeout": 1, "max_retries": 1}}`, 400,
			"Invalid input for field/attribute type. Value: 'None'. Mandatory field missing."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.activeGraph()
			e.do(http.MethodPost, "/v2/lbaas/healthmonitors", tt.body).expectFault(tt.status, tt.want)
			if n := e.cmds.CallCount(); n != 0 {
				t.Errorf("%d commands issued", n)
			}
		})
	}
}

func TestHealthMonitorOnUDPPool(t *testing.T) {
	e := newEnv(t)
	e.activeGraph()
	s := e.state()
	s.Pools[poolID].Spec.Protocol = "UDP"
	e.cmds.Put(s)
	e.do(http.MethodPost, "/v2/lbaas/healthmonitors", hmBody(`, "type": "PING"`)).
		expectFault(400, "Validation failure: The associated pool protocol is UDP, so only a UDP-CONNECT/SCTP/TCP/HTTP health monitor is supported.")
	e.do(http.MethodPost, "/v2/lbaas/healthmonitors", `{"healthmonitor": {"pool_id": "`+poolID+`", "type": "UDP-CONNECT", "delay": 2, "timeout": 1, "max_retries": 1}}`).
		expectFault(400, "Validation failure: The request delay value 2 should be larger than 3 for UDP-CONNECT health monitor type.")
	e.do(http.MethodPost, "/v2/lbaas/healthmonitors", hmBody(`, "type": "UDP-CONNECT"`)).expectStatus(http.StatusCreated)
}

func TestUpdateDeleteHealthMonitor(t *testing.T) {
	e := newEnv(t)
	e.activeGraph()
	hm := e.do(http.MethodPut, "/v2/lbaas/healthmonitors/"+hmID, `{"healthmonitor": {"delay": 7, "max_retries_down": null}}`).
		expectStatus(http.StatusOK).obj("healthmonitor")
	if hm["delay"] != float64(7) || hm["max_retries_down"] != float64(3) || hm["provisioning_status"] != "PENDING_UPDATE" {
		t.Errorf("body %v", hm)
	}
	cmd := e.cmds.LastCall().Command.(loadbalancer.UpdateHealthMonitor)
	if cmd.HealthMonitorID != hmID || string(cmd.Patch["max_retries_down"]) != "3" {
		t.Errorf("command %+v", cmd)
	}
	e.do(http.MethodPut, "/v2/lbaas/healthmonitors/"+hmID, `{"healthmonitor": {"url_path": null}}`).
		expectFault(400, "url_path is not a valid option for health monitors of type TCP")
	e.do(http.MethodPut, "/v2/lbaas/healthmonitors/"+hmID, `{"healthmonitor": {"timeout": null}}`).
		expectFault(400, "None is not a valid option for timeout")
	e.do(http.MethodPut, "/v2/lbaas/healthmonitors/"+unknownID, `{"healthmonitor": {}}`).
		expectFault(404, "Health Monitor "+unknownID+" not found.")
	e.do(http.MethodGet, "/v2/lbaas/healthmonitors/"+hmID, "").expectStatus(200)
	e.do(http.MethodGet, "/v2/lbaas/healthmonitors?type=TCP", "").expectStatus(200)
	e.do(http.MethodDelete, "/v2/lbaas/healthmonitors/"+hmID, "").expectStatus(http.StatusNoContent)
	if d, ok := e.cmds.LastCall().Command.(loadbalancer.DeleteHealthMonitor); !ok || d.HealthMonitorID != hmID {
		t.Errorf("delete %#v", e.cmds.LastCall().Command)
	}
}
