package v2_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	v2 "github.com/octavia-es/octavia-es/http/v2"
)

// weirdValues are JSON values of every kind, including ones that break
// naive conversions.
var weirdValues = []string{
	`null`, `true`, `false`, `0`, `-1`, `1.5`, `1e400`, `-1e400`, `99999999999999999999999`, `"x"`, `""`, `"  42 "`,
	`"1_0"`, `"0x10"`, `[]`, `[null]`, `[1, "a"]`, `["10.0.0.0/8"]`, `{}`, `{"a": null}`, `{"X-Forwarded-For": "true"}`,
	`"` + strings.Repeat("é", 300) + `"`, `"\u0000\n"`, `"fd00::1"`, `"` + lbID + `"`,
}

type writeEndpoint struct {
	schema, method, path, key, base string
}

func writeEndpoints() []writeEndpoint {
	return []writeEndpoint{
		{"loadbalancer POST", http.MethodPost, "/v2/lbaas/loadbalancers", "loadbalancer", `{"vip_subnet_id": "` + subnetID + `"}`},
		{"loadbalancer PUT", http.MethodPut, "/v2/lbaas/loadbalancers/" + lbID, "loadbalancer", `{}`},
		{"listener POST", http.MethodPost, "/v2/lbaas/listeners", "listener", `{"loadbalancer_id": "` + lbID + `", "protocol": "HTTP", "protocol_port": 81}`},
		{"listener PUT", http.MethodPut, "/v2/lbaas/listeners/" + listID, "listener", `{}`},
		{"pool POST", http.MethodPost, "/v2/lbaas/pools", "pool", `{"loadbalancer_id": "` + lbID + `", "protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN"}`},
		{"pool PUT", http.MethodPut, "/v2/lbaas/pools/" + poolID, "pool", `{}`},
		{"member POST", http.MethodPost, membersPath, "member", `{"address": "10.0.0.9", "protocol_port": 80}`},
		{"member PUT", http.MethodPut, membersPath + "/" + memberID, "member", `{}`},
		{"healthmonitor POST", http.MethodPost, "/v2/lbaas/healthmonitors", "healthmonitor", `{"pool_id": "` + poolID + `", "type": "HTTP", "delay": 1, "timeout": 1, "max_retries": 1}`},
		{"healthmonitor PUT", http.MethodPut, "/v2/lbaas/healthmonitors/" + hmID, "healthmonitor", `{}`},
	}
}

// TestBadInputNeverFails500: every attribute of every write, set to values
// of every JSON kind, gets a 2xx or a 4xx in Octavia's format, never a 5xx
// or a panic.
func TestBadInputNeverFails500(t *testing.T) {
	attrs := v2.AttrNames()
	e := newEnv(t)
	counts := map[int]int{}
	defer func() {
		// a setup mistake would refuse everything (or nothing)
		if counts[http.StatusCreated] == 0 || counts[http.StatusOK] == 0 || counts[http.StatusBadRequest] == 0 {
			t.Errorf("status counts %v: want successes and refusals", counts)
		}
	}()
	for _, ep := range writeEndpoints() {
		if len(attrs[ep.schema]) == 0 {
			t.Fatalf("no attributes for %s", ep.schema)
		}
		for _, name := range attrs[ep.schema] {
			for _, v := range weirdValues {
				e.activeGraph()
				var base map[string]json.RawMessage
				if err := json.Unmarshal([]byte(ep.base), &base); err != nil {
					t.Fatal(err)
				}
				base[name] = json.RawMessage(v)
				inner, _ := json.Marshal(base)
				body := `{"` + ep.key + `": ` + string(inner) + `}`
				resp := e.do(ep.method, ep.path, body)
				counts[resp.Code]++
				if resp.Code >= 500 {
					t.Errorf("%s %s=%s: %d %s", ep.schema, name, v, resp.Code, resp.Body.String())
					continue
				}
				if resp.Code >= 400 {
					m := resp.json()
					if m["faultcode"] != "Client" && m["code"] == nil {
						t.Errorf("%s %s=%s: body %s", ep.schema, name, v, resp.Body.String())
					}
				}
			}
		}
	}
	for _, raw := range []string{`null`, `[]`, `"x"`, `{"a": {"b": [`, `{"members": 5}`, `{"members": [null]}`, `{"members": [{"address": null, "protocol_port": 1}]}`} {
		for _, ep := range append(writeEndpoints(), writeEndpoint{method: http.MethodPut, path: membersPath}) {
			e.activeGraph()
			if resp := e.do(ep.method, ep.path, raw); resp.Code >= 500 {
				t.Errorf("%s %s %s: %d %s", ep.method, ep.path, raw, resp.Code, resp.Body.String())
			}
		}
	}
}
