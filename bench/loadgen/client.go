package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Client speaks just enough of the Octavia v2 API for the benchmarks. One
// keep-alive connection per worker, so no request pays a TCP handshake.
type Client struct {
	base     string // e.g. http://127.0.0.1:9876
	project  string
	subnetID string
	http     *http.Client
}

// NewClient returns a client for base with up to conns idle connections.
func NewClient(base, project, subnetID string, conns int) *Client {
	tr := &http.Transport{
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true, // Octavia clients don't ask for gzip either
	}
	return &Client{base: base, project: project, subnetID: subnetID,
		http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// Close drops the idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// lbBody is the part of a load balancer the benchmarks read.
type lbBody struct {
	ID                 string `json:"id"`
	ProvisioningStatus string `json:"provisioning_status"`
}

// do sends one request and returns the status and body; the body is always
// read to the end so the connection goes back to the pool.
func (c *Client) do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("X-Project-Id", c.project)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	return resp.StatusCode, b, nil
}

// expect is do that turns an unexpected status into an error.
func (c *Client) expect(ctx context.Context, want int, method, path string, body []byte) ([]byte, error) {
	code, b, err := c.do(ctx, method, path, body)
	if err != nil {
		return nil, err
	}
	if code != want {
		return b, fmt.Errorf("%s %s: status %d, want %d: %.200s", method, path, code, want, b)
	}
	return b, nil
}

// Root is GET / (version discovery): the cheapest request the server answers,
// used as the floor every API figure is compared with.
func (c *Client) Root(ctx context.Context) error {
	_, err := c.expect(ctx, http.StatusOK, http.MethodGet, "/", nil)
	return err
}

// CreateLB posts a load balancer on the configured subnet and returns its id.
func (c *Client) CreateLB(ctx context.Context, name string) (string, error) {
	body, err := json.Marshal(map[string]any{"loadbalancer": map[string]any{
		"name": name, "vip_subnet_id": c.subnetID,
	}})
	if err != nil {
		return "", fmt.Errorf("encode create: %w", err)
	}
	b, err := c.expect(ctx, http.StatusCreated, http.MethodPost, "/v2/lbaas/loadbalancers", body)
	if err != nil {
		return "", err
	}
	var out struct {
		LoadBalancer lbBody `json:"loadbalancer"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.LoadBalancer.ID == "" {
		return "", fmt.Errorf("create: no load balancer id in %.200s (%v)", b, err)
	}
	return out.LoadBalancer.ID, nil
}

// LBStatus returns the provisioning status of one load balancer.
func (c *Client) LBStatus(ctx context.Context, id string) (string, error) {
	b, err := c.expect(ctx, http.StatusOK, http.MethodGet, "/v2/lbaas/loadbalancers/"+url.PathEscape(id), nil)
	if err != nil {
		return "", err
	}
	var out struct {
		LoadBalancer lbBody `json:"loadbalancer"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return "", fmt.Errorf("get %s: decode: %w", id, err)
	}
	return out.LoadBalancer.ProvisioningStatus, nil
}

// ListRaw is one GET of the list with the given query; the body is read but
// not decoded, so the figure is the server's cost, not the client's.
func (c *Client) ListRaw(ctx context.Context, query url.Values) ([]byte, error) {
	path := "/v2/lbaas/loadbalancers"
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	return c.expect(ctx, http.StatusOK, http.MethodGet, path, nil)
}

// ListCount decodes a list body and returns how many load balancers it holds
// and the id of the last one (the next page's marker). With status set, an
// item in another status is an error: the server ignored the filter.
func ListCount(b []byte, status string) (int, string, error) {
	var out struct {
		LoadBalancers []lbBody `json:"loadbalancers"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return 0, "", fmt.Errorf("decode list: %w", err)
	}
	if len(out.LoadBalancers) == 0 {
		return 0, "", nil
	}
	for _, lb := range out.LoadBalancers {
		if status != "" && lb.ProvisioningStatus != status {
			return 0, "", fmt.Errorf("list filtered on provisioning_status=%s returned %s %s", status, lb.ID, lb.ProvisioningStatus)
		}
	}
	return len(out.LoadBalancers), out.LoadBalancers[len(out.LoadBalancers)-1].ID, nil
}

// CountStatus pages through every load balancer with the given provisioning
// status ("" = any; marker paging, pages of pageSize) and returns how many
// there are.
func (c *Client) CountStatus(ctx context.Context, status string, pageSize int) (int, error) {
	total, marker := 0, ""
	for {
		q := url.Values{"limit": {strconv.Itoa(pageSize)}}
		if status != "" {
			q.Set("provisioning_status", status)
		}
		if marker != "" {
			q.Set("marker", marker)
		}
		b, err := c.ListRaw(ctx, q)
		if err != nil {
			return total, err
		}
		n, last, err := ListCount(b, status)
		if err != nil {
			return total, err
		}
		total += n
		if n < pageSize {
			return total, nil
		}
		marker = last
	}
}
