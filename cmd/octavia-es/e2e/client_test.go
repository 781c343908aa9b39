package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
)

// rawClient speaks plain HTTP to the API, for what gophercloud hides:
// status codes, error bodies, headers, links and exact JSON.
type rawClient struct {
	base    string // server URL, no trailing slash
	project string // X-Project-Id; "" sends none
	hc      *http.Client
}

func newRawClient(base, project string) *rawClient {
	return &rawClient{base: base, project: project, hc: &http.Client{Timeout: 10 * time.Second}}
}

// response is one answer with its body kept.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) String() string {
	return fmt.Sprintf("HTTP %d %s", r.Status, bytes.TrimSpace(r.Body))
}

// object decodes the body as a JSON object, failing the test otherwise.
func (r response) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object (%v): %s", err, r)
	}
	return m
}

// request is one call; Body is sent verbatim with ContentType
// (application/json unless NoContentType).
type request struct {
	Method        string
	Path          string // "/v2/..." or an absolute URL (links)
	Body          string
	NoContentType bool
}

func (c *rawClient) do(t *testing.T, req request) response {
	t.Helper()
	r, err := c.try(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.Path, err)
	}
	return r
}

// try is do without the test: safe from any goroutine.
func (c *rawClient) try(req request) (response, error) {
	url := req.Path
	if !strings.HasPrefix(url, "http") {
		url = c.base + req.Path
	}
	var body io.Reader
	if req.Body != "" {
		body = strings.NewReader(req.Body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, req.Method, url, body)
	if err != nil {
		return response{}, err
	}
	if req.Body != "" && !req.NoContentType {
		hr.Header.Set("Content-Type", "application/json")
	}
	hr.Header.Set("Accept", "application/json")
	if c.project != "" {
		hr.Header.Set("X-Project-Id", c.project)
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("read body: %w", err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

func (c *rawClient) get(t *testing.T, path string) response {
	t.Helper()
	return c.do(t, request{Method: http.MethodGet, Path: path})
}

// mustStatus fails the test unless r has the wanted status.
func mustStatus(t *testing.T, what string, r response, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("%s: want HTTP %d, got %s", what, want, r)
	}
}

// newGopherClient builds the ServiceClient that openstack.NewLoadBalancerV2
// builds for an endpoint base+"/": ResourceBase base+"/v2.0/", type
// load-balancer. There is no Keystone: the endpoint locator answers the
// server's URL and X-Project-Id rides on every request, as with noauth.
func newGopherClient(t *testing.T, base, project string) *gophercloud.ServiceClient {
	t.Helper()
	pc := &gophercloud.ProviderClient{
		HTTPClient: http.Client{Timeout: 10 * time.Second},
		EndpointLocator: func(gophercloud.EndpointOpts) (string, error) {
			return base + "/", nil
		},
	}
	sc, err := openstack.NewLoadBalancerV2(pc, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatalf("NewLoadBalancerV2: %v", err)
	}
	if want := base + "/v2.0/"; sc.ResourceBase != want {
		t.Fatalf("ResourceBase %q, want %q", sc.ResourceBase, want)
	}
	sc.MoreHeaders = map[string]string{"X-Project-Id": project}
	return sc
}

// poll calls check until it reports done or waitTimeout passes; on timeout
// the test fails with what check last saw.
func poll(t *testing.T, what string, check func() (done bool, last string)) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	var last string
	for {
		var done bool
		done, last = check()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %s; last seen: %s", what, waitTimeout, last)
		}
		time.Sleep(pollInterval)
	}
}

// waitStatus waits until the object at path (e.g. /v2/lbaas/loadbalancers/ID)
// has provisioning_status want, and returns it. Reaching ERROR when waiting
// for something else fails at once.
func waitStatus(t *testing.T, c *rawClient, path, root, want string) map[string]any {
	t.Helper()
	var obj map[string]any
	poll(t, path+" "+want, func() (bool, string) {
		r := c.get(t, path)
		if r.Status != http.StatusOK {
			return false, r.String()
		}
		obj = objectAt(t, r, root)
		got := obj["provisioning_status"]
		if got == "ERROR" && want != "ERROR" {
			t.Fatalf("%s went to ERROR while waiting for %s: %s", path, want, r)
		}
		return got == want, r.String()
	})
	return obj
}

// waitActive waits for the load balancer (and so its whole graph) to settle.
func waitActive(t *testing.T, c *rawClient, lbID string) map[string]any {
	t.Helper()
	return waitStatus(t, c, "/v2/lbaas/loadbalancers/"+lbID, "loadbalancer", "ACTIVE")
}

// waitGone waits for GET path to answer 404.
func waitGone(t *testing.T, c *rawClient, path string) {
	t.Helper()
	poll(t, path+" 404", func() (bool, string) {
		r := c.get(t, path)
		return r.Status == http.StatusNotFound, r.String()
	})
}

// settled reports whether a provisioning status is final (not PENDING_*).
func settled(status any) bool {
	s, _ := status.(string)
	return s != "" && !strings.HasPrefix(s, "PENDING_")
}

// objectAt decodes {"<root>": {...}} and returns the inner object.
func objectAt(t *testing.T, r response, root string) map[string]any {
	t.Helper()
	inner, ok := r.object(t)[root].(map[string]any)
	if !ok {
		t.Fatalf("no object %q in %s", root, r)
	}
	return inner
}

// listAt decodes {"<root>": [...]} into objects.
func listAt(t *testing.T, r response, root string) []map[string]any {
	t.Helper()
	raw, ok := r.object(t)[root].([]any)
	if !ok {
		t.Fatalf("no list %q in %s", root, r)
	}
	out := make([]map[string]any, 0, len(raw))
	for i, v := range raw {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s[%d] is not an object: %s", root, i, r)
		}
		out = append(out, m)
	}
	return out
}

// ids returns the "id" of every object, in order.
func ids(objs []map[string]any) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		s, _ := o["id"].(string)
		out = append(out, s)
	}
	return out
}

// mustJSON marshals v (test data, never fails in practice).
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(b)
}
