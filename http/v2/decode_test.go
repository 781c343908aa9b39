package v2

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const uuid1 = "6a0a707c-45ef-4758-b533-e55adddba8ce"

func decodeWith(t *testing.T, b body, method, contentType, query, payload string) (*record, int, string) {
	t.Helper()
	req := httptest.NewRequest(method, "/x"+query, strings.NewReader(payload))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec, ferr := b.decode(req)
	if ferr != nil {
		return nil, ferr.Status, ferr.Message
	}
	return rec, http.StatusOK, ""
}

var (
	lbPost       = body{arg: "load_balancer", root: rootType("loadbalancer", loadBalancerPOST)}
	listenerPost = body{arg: "listener_", root: rootType("listener", listenerPOST)}
	poolPost     = body{arg: "pool_", root: rootType("pool", poolPOST)}
	memberPost   = body{arg: "member_", root: rootType("member", memberPOST)}
	hmPost       = body{arg: "health_monitor_", root: rootType("healthmonitor", healthMonitorPOST)}
	lbPut        = body{arg: "load_balancer", root: rootType("loadbalancer", loadBalancerPUT)}
	batchPut     = body{arg: "members_", root: membersPUT, params: []string{"additive_only"}}
)

// TestDecodeFaultstrings: Octavia's exact messages for malformed bodies
// (wsme: unknown attributes, wrong types, enums, UUIDs, ranges, lengths,
// missing mandatory attributes).
func TestDecodeFaultstrings(t *testing.T) {
	long := strings.Repeat("a", 256)
	tests := []struct {
		name    string
		b       body
		payload string
		want    string
	}{
		{"unknown attribute", lbPost, `{"loadbalancer": {"foo": 1}}`,
			"Unknown attribute for argument load_balancer.loadbalancer: foo"},
		{"unknown attributes in order", lbPost, `{"loadbalancer": {"foo": 1, "vip_subnet_id": "` + uuid1 + `", "bar": 2}}`,
			"Unknown attributes for argument load_balancer.loadbalancer: foo, bar"},
		{"unknown root attribute", lbPost, `{"lb": {}}`, "Unknown attribute for argument load_balancer: lb"},
		{"unknown nested in list", lbPost, `{"loadbalancer": {"additional_vips": [{"subnet_id": "` + uuid1 + `", "x": 1}]}}`,
			"Unknown attribute for argument load_balancer.loadbalancer.additional_vips: x"},
		{"unknown nested object", poolPost, `{"pool": {"protocol": "TCP", "lb_algorithm": "ROUND_ROBIN", "session_persistence": {"type": "SOURCE_IP", "x": 1}}}`,
			"Unknown attribute for argument pool_.pool.session_persistence: x"},
		{"string expected", lbPost, `{"loadbalancer": {"name": 123}}`,
			"Invalid input for field/attribute name. Value: '123'. Value should be string"},
		{"too long", lbPost, `{"loadbalancer": {"description": "` + long + `"}}`,
			"Invalid input for field/attribute description. Value: '" + long + "'. Value should have a maximum character requirement of 255"},
		{"empty uuid", lbPost, `{"loadbalancer": {"vip_subnet_id": ""}}`,
			"Invalid input for field/attribute vip_subnet_id. Value: ''. Value should be UUID format"},
		{"bad uuid", lbPost, `{"loadbalancer": {"flavor_id": "BOGUS"}}`,
			"Invalid input for field/attribute flavor_id. Value: 'BOGUS'. Value should be UUID format"},
		{"bad ip", lbPost, `{"loadbalancer": {"vip_address": "1.2.3"}}`,
			"Invalid input for field/attribute vip_address. Value: '1.2.3'. Value should be IPv4 or IPv6 format"},
		{"ambiguous boolean is reported for the argument", lbPost, `{"loadbalancer": {"name": "a", "admin_state_up": "maybe"}}`,
			"Invalid input for field/attribute load_balancer. Value: '{'loadbalancer': {'name': 'a', 'admin_state_up': 'maybe'}}'. Value not an unambiguous boolean: maybe"},
		{"float is not a boolean", lbPost, `{"loadbalancer": {"admin_state_up": 1.0}}`,
			"Invalid input for field/attribute load_balancer. Value: '{'loadbalancer': {'admin_state_up': 1.0}}'. Value not an unambiguous boolean: 1.0"},
		{"not a list", lbPost, `{"loadbalancer": {"tags": "a"}}`,
			"Invalid input for field/attribute load_balancer. Value: '{'loadbalancer': {'tags': 'a'}}'. Value not a valid list: a"},
		{"list of non strings", lbPost, `{"loadbalancer": {"tags": ["a", 1]}}`,
			"Invalid input for field/attribute tags. Value: '['a', 1]'. Value should be string"},
		{"mandatory in list item", lbPost, `{"loadbalancer": {"additional_vips": [{}]}}`,
			"Invalid input for field/attribute subnet_id. Value: 'None'. Mandatory field missing."},
		{"root not an object", lbPost, `[]`,
			"Invalid input for field/attribute load_balancer. Value: '[]'. Value should be a JSON object"},
		{"resource not an object", lbPost, `{"loadbalancer": "x"}`,
			"Invalid input for field/attribute loadbalancer. Value: 'x'. Value should be a JSON object"},
		{"mandatory missing", listenerPost, `{"listener": {"protocol_port": 80, "loadbalancer_id": "` + uuid1 + `"}}`,
			"Invalid input for field/attribute protocol. Value: 'None'. Mandatory field missing."},
		{"first mandatory in declaration order", listenerPost, `{"listener": {"loadbalancer_id": "` + uuid1 + `"}}`,
			"Invalid input for field/attribute protocol. Value: 'None'. Mandatory field missing."},
		{"unknown enum", listenerPost, `{"listener": {"protocol": "FOO", "protocol_port": 80, "loadbalancer_id": "` + uuid1 + `"}}`,
			"Invalid input for field/attribute protocol. Value: 'FOO'. Value should be one of: TCP, HTTPS, HTTP, TERMINATED_HTTPS, UDP, SCTP, PROMETHEUS"},
		{"unhashable enum", listenerPost, `{"listener": {"protocol": ["HTTP"], "protocol_port": 80, "loadbalancer_id": "` + uuid1 + `"}}`,
			"Invalid input for field/attribute protocol. Value: '['HTTP']'. unhashable type: 'list'"},
		{"int literal", listenerPost, `{"listener": {"protocol": "HTTP", "protocol_port": "abc"}}`,
			"Invalid input for field/attribute listener_. Value: '{'listener': {'protocol': 'HTTP', 'protocol_port': 'abc'}}'. invalid literal for int() with base 10: 'abc'"},
		{"int from list", listenerPost, `{"listener": {"protocol": "HTTP", "protocol_port": [1]}}`,
			"Invalid input for field/attribute listener_. Value: '{'listener': {'protocol': 'HTTP', 'protocol_port': [1]}}'. int() argument must be a string, a bytes-like object or a real number, not 'list'"},
		{"below minimum", listenerPost, `{"listener": {"protocol": "HTTP", "protocol_port": 0}}`,
			"Invalid input for field/attribute protocol_port. Value: '0'. Value should be greater or equal to 1"},
		{"above maximum", listenerPost, `{"listener": {"protocol": "HTTP", "protocol_port": "65536"}}`,
			"Invalid input for field/attribute protocol_port. Value: '65536'. Value should be lower or equal to 65535"},
		{"timeout maximum", listenerPost, `{"listener": {"protocol": "HTTP", "protocol_port": 80, "loadbalancer_id": "` + uuid1 + `", "timeout_client_data": 2073600001}}`,
			"Invalid input for field/attribute timeout_client_data. Value: '2073600001'. Value should be lower or equal to 2073600000"},
		{"connection limit minimum", listenerPost, `{"listener": {"protocol": "HTTP", "protocol_port": 80, "connection_limit": -2, "loadbalancer_id": "` + uuid1 + `"}}`,
			"Invalid input for field/attribute connection_limit. Value: '-2'. Value should be greater or equal to -1"},
		{"not a dict", listenerPost, `{"listener": {"protocol": "HTTP", "protocol_port": 80, "insert_headers": "x"}}`,
			"Invalid input for field/attribute listener_. Value: '{'listener': {'protocol': 'HTTP', 'protocol_port': 80, 'insert_headers': 'x'}}'. Value not a valid dict: x"},
		{"dict value type", listenerPost, `{"listener": {"protocol": "HTTP", "protocol_port": 80, "insert_headers": {"X-Forwarded-For": 1}, "loadbalancer_id": "` + uuid1 + `"}}`,
			"Invalid input for field/attribute insert_headers. Value: '{'X-Forwarded-For': 1}'. Value should be string"},
		{"bad cidr", listenerPost, `{"listener": {"protocol": "HTTP", "protocol_port": 80, "loadbalancer_id": "` + uuid1 + `", "allowed_cidrs": ["10.0.0.1/33"]}}`,
			"Invalid input for field/attribute allowed_cidrs. Value: '['10.0.0.1/33']'. Value should be IPv4 or IPv6 CIDR format"},
		{"bad alpn", listenerPost, `{"listener": {"protocol": "HTTP", "protocol_port": 80, "loadbalancer_id": "` + uuid1 + `", "alpn_protocols": ["spdy"]}}`,
			"Invalid input for field/attribute alpn_protocols. Value: '['spdy']'. Value should be a valid ALPN protocol ID"},
		{"tenant_id is checked as project_id", listenerPost, `{"listener": {"protocol": "HTTP", "protocol_port": 80, "loadbalancer_id": "` + uuid1 + `", "tenant_id": "` + strings.Repeat("p", 37) + `"}}`,
			"Invalid input for field/attribute project_id. Value: '" + strings.Repeat("p", 37) + "'. Value should have a maximum character requirement of 36"},
		{"sp type enum", poolPost, `{"pool": {"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "session_persistence": {"type": "FOO"}}}`,
			"Invalid input for field/attribute type. Value: 'FOO'. Value should be one of: SOURCE_IP, HTTP_COOKIE, APP_COOKIE"},
		{"sp type mandatory", poolPost, `{"pool": {"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "session_persistence": {}}}`,
			"Invalid input for field/attribute type. Value: 'None'. Mandatory field missing."},
		{"cookie pattern", poolPost, `{"pool": {"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "session_persistence": {"type": "APP_COOKIE", "cookie_name": "a b"}}}`,
			`Invalid input for field/attribute cookie_name. Value: 'a b'. Value should match the pattern ^[^\s,;\\]+$`},
		{"lb algorithm", poolPost, `{"pool": {"protocol": "HTTP", "lb_algorithm": "RANDOM"}}`,
			"Invalid input for field/attribute lb_algorithm. Value: 'RANDOM'. Value should be one of: LEAST_CONNECTIONS, ROUND_ROBIN, SOURCE_IP, SOURCE_IP_PORT"},
		{"weight maximum", memberPost, `{"member": {"address": "10.0.0.1", "protocol_port": 80, "weight": 257}}`,
			"Invalid input for field/attribute weight. Value: '257'. Value should be lower or equal to 256"},
		{"member address mandatory", memberPost, `{"member": {"protocol_port": 80}}`,
			"Invalid input for field/attribute address. Value: 'None'. Mandatory field missing."},
		{"http version float", hmPost, `{"healthmonitor": {"type": "HTTP", "delay": 1, "timeout": 1, "max_retries": 1, "pool_id": "` + uuid1 + `", "http_version": "abc"}}`,
			"Invalid input for field/attribute health_monitor_. Value: '{'healthmonitor': {'type': 'HTTP', 'delay': 1, 'timeout': 1, 'max_retries': 1, 'pool_id': '" + uuid1 + "', 'http_version': 'abc'}}'. could not convert string to float: 'abc'"},
		{"http version enum", hmPost, `{"healthmonitor": {"type": "HTTP", "delay": 1, "timeout": 1, "max_retries": 1, "pool_id": "` + uuid1 + `", "http_version": 2}}`,
			"Invalid input for field/attribute http_version. Value: '2.0'. Value should be one of: 1.0, 1.1"},
		{"expected codes pattern", hmPost, `{"healthmonitor": {"type": "HTTP", "delay": 1, "timeout": 1, "max_retries": 1, "expected_codes": "20", "pool_id": "` + uuid1 + `"}}`,
			`Invalid input for field/attribute expected_codes. Value: '20'. Value should match the pattern ^(\d{3}(\s*,\s*\d{3})*)$|^(\d{3}-\d{3})$`},
		{"domain name pattern", hmPost, `{"healthmonitor": {"type": "HTTP", "delay": 1, "timeout": 1, "max_retries": 1, "pool_id": "` + uuid1 + `", "domain_name": "-bad.example"}}`,
			"Invalid input for field/attribute domain_name. Value: '-bad.example'. Value should match the pattern " + domainNameRegex},
		{"url path", hmPost, `{"healthmonitor": {"type": "HTTP", "delay": 1, "timeout": 1, "max_retries": 1, "url_path": "health", "pool_id": "` + uuid1 + `"}}`,
			"Invalid input for field/attribute url_path. Value: 'health'. Value must be a valid URL Path string"},
		{"max retries range", hmPost, `{"healthmonitor": {"type": "HTTP", "delay": 1, "timeout": 1, "max_retries": 11, "pool_id": "` + uuid1 + `"}}`,
			"Invalid input for field/attribute max_retries. Value: '11'. Value should be lower or equal to 10"},
		{"batch members not a list", batchPut, `{"members": {}}`,
			"Invalid input for field/attribute members_. Value: '{'members': {}}'. Value not a valid list: {}"},
		{"invalid json", lbPost, `{"loadbalancer": `, "Request is not in valid JSON format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, status, msg := decodeWith(t, tt.b, http.MethodPost, "application/json", "", tt.payload)
			if status != http.StatusBadRequest || msg != tt.want {
				t.Errorf("got %d %q\nwant 400 %q", status, msg, tt.want)
			}
		})
	}
}

// TestDecodeConversions: values wsme converts rather than refuses, and
// normalizations Octavia applies.
func TestDecodeConversions(t *testing.T) {
	rec, status, msg := decodeWith(t, listenerPost, http.MethodPost, "application/json", "",
		`{"listener": {"protocol": "HTTP", "protocol_port": " 80 ", "admin_state_up": "yes", "connection_limit": 7.9,
		  "loadbalancer_id": "6A0A707C45EF4758B533E55ADDDBA8CE", "allowed_cidrs": ["10.0.0.7/24", "::1", "192.168.0.0/255.255.0.0"],
		  "tenant_id": "p1", "project_id": "p0"}}`)
	if status != http.StatusOK {
		t.Fatalf("decode: %d %s", status, msg)
	}
	l := rec.sub("listener")
	if got := l.intOr("protocol_port", 0); got != 80 {
		t.Errorf("protocol_port = %d", got)
	}
	if !l.boolOr("admin_state_up", false) {
		t.Error("admin_state_up 'yes' not true")
	}
	if got := l.intOr("connection_limit", 0); got != 7 {
		t.Errorf("connection_limit = %d, want 7 (Python int(7.9))", got)
	}
	if got := l.strOr("loadbalancer_id", ""); got != uuid1 {
		t.Errorf("loadbalancer_id = %q, want normalized %q", got, uuid1)
	}
	if got := strings.Join(l.strings("allowed_cidrs"), ","); got != "10.0.0.0/24,::1/128,192.168.0.0/16" {
		t.Errorf("allowed_cidrs = %q", got)
	}
	if got := l.strOr("project_id", ""); got != "p1" {
		t.Errorf("project_id = %q, want tenant_id's p1", got)
	}
	if l.has("tenant_id") {
		t.Error("tenant_id kept as its own attribute")
	}
}

func TestDecodeNullsAndBooleans(t *testing.T) {
	rec, status, msg := decodeWith(t, lbPut, http.MethodPut, "application/json", "",
		`{"loadbalancer": {"name": null, "admin_state_up": 0, "tags": null}}`)
	if status != http.StatusOK {
		t.Fatalf("decode: %d %s", status, msg)
	}
	lb := rec.sub("loadbalancer")
	if !lb.null("name") || !lb.null("tags") || lb.has("description") {
		t.Errorf("nulls: name %v tags %v description present %v", lb.null("name"), lb.null("tags"), lb.has("description"))
	}
	if lb.boolOr("admin_state_up", true) {
		t.Error("admin_state_up 0 is not false")
	}
}

// TestDecodeRequestFraming: content types, parameters and empty bodies, as
// wsme and webob answer them.
func TestDecodeRequestFraming(t *testing.T) {
	lbBody := `{"loadbalancer": {"vip_subnet_id": "` + uuid1 + `"}}`
	tests := []struct {
		name, method, contentType, query, payload string
		b                                         body
		status                                    int
		want                                      string
	}{
		{"no content type", http.MethodPost, "", "", lbBody, lbPost, 400, `Unknown argument: "` + lbBody + `"`},
		{"form content type", http.MethodPost, "application/x-www-form-urlencoded", "", "a=1&b", lbPost, 400, `Unknown argument: "a, b"`},
		{"text plain", http.MethodPost, "text/plain", "", lbBody, lbPost, 415, "Unknown mimetype: text/plain"},
		{"put without content type", http.MethodPut, "", "", lbBody, lbPut, 415, "Unknown mimetype: "},
		{"unknown query parameter", http.MethodPost, "application/json", "?foo=1&bar", lbBody, lbPost, 400, `Unknown argument: "foo, bar"`},
		{"empty body", http.MethodPost, "application/json", "", "", lbPost, 400, `Missing argument: "load_balancer"`},
		{"charset parameter", http.MethodPost, "application/json; charset=UTF-8", "", lbBody, lbPost, 200, ""},
		{"javascript mimetype", http.MethodPost, "text/javascript", "", lbBody, lbPost, 200, ""},
		{"declared parameter", http.MethodPut, "application/json", "?additive_only=true", `{"members": []}`, batchPut, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, status, msg := decodeWith(t, tt.b, tt.method, tt.contentType, tt.query, tt.payload)
			if status != tt.status || msg != tt.want {
				t.Errorf("got %d %q, want %d %q", status, msg, tt.status, tt.want)
			}
		})
	}
}

func TestResourceMissing(t *testing.T) {
	rec, _, _ := decodeWith(t, lbPost, http.MethodPost, "application/json", "", `{}`)
	if _, ferr := resource(rec, "loadbalancer"); ferr == nil ||
		ferr.Message != "Invalid input for field/attribute loadbalancer. Value: 'None'. Mandatory field missing." {
		t.Fatalf("resource: %v", ferr)
	}
	rec, _, _ = decodeWith(t, lbPost, http.MethodPost, "application/json", "", `{"loadbalancer": null}`)
	if _, ferr := resource(rec, "loadbalancer"); ferr == nil {
		t.Fatal("null resource accepted")
	}
}

func TestValidDomainName(t *testing.T) {
	good := []string{"example.com", "example.com.", "_dmarc.example.com", "a", "x-1.y"}
	bad := []string{"", "-a.com", "a-.com", "a_b.com", "a..b", strings.Repeat("a", 64) + ".com", "a b"}
	for _, s := range good {
		if !validDomainName(s) {
			t.Errorf("%q refused", s)
		}
	}
	for _, s := range bad {
		if validDomainName(s) {
			t.Errorf("%q accepted", s)
		}
	}
}
