package rest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// AgentError is an agent's error answer (Octavia's {"message", "details"}).
type AgentError struct {
	Op      string
	Status  int
	Message string
	Details string
}

func (e *AgentError) Error() string {
	msg := fmt.Sprintf("amphora agent: %s: %d %s", e.Op, e.Status, e.Message)
	if e.Details != "" {
		msg += ": " + e.Details
	}
	return msg
}

// staleError: the agent has a newer configuration (409).
type staleError struct{ running int64 }

func (e *staleError) Error() string {
	return fmt.Sprintf("amphora agent keeps configuration version %d", e.running)
}

// client calls one amphora's agent.
type client struct {
	base url.URL // https://host:port/1.0/
	hc   *http.Client
}

func newClient(base url.URL, tlsConf *tls.Config, timeout time.Duration) *client {
	return &client{base: base, hc: &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			TLSClientConfig:     tlsConf,
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     90 * time.Second,
		},
	}}
}

func (c *client) close() { c.hc.CloseIdleConnections() }

type agentInfo struct {
	Hostname       string `json:"hostname"`
	HAProxyVersion string `json:"haproxy_version"`
	APIVersion     string `json:"api_version"`
	BasePath       string `json:"base_path"`
	CertNotAfter   string `json:"cert_not_after"` // RFC 3339; "" from an older agent
}

func (c *client) info(ctx context.Context) (agentInfo, error) {
	var info agentInfo
	_, _, err := c.do(ctx, "get info", http.MethodGet, "info", nil, "", http.StatusOK, &info)
	return info, err
}

type uploadAnswer struct {
	Changed bool  `json:"changed"`
	Running bool  `json:"running"`
	Version int64 `json:"version"`
}

func (c *client) upload(ctx context.Context, ampID, lbID string, version int64, cfg []byte) (uploadAnswer, error) {
	path := "loadbalancer/" + url.PathEscape(ampID) + "/" + url.PathEscape(lbID) + "/haproxy?version=" + strconv.FormatInt(version, 10)
	var ans uploadAnswer
	status, raw, err := c.do(ctx, "upload configuration", http.MethodPut, path, cfg, "text/plain", http.StatusAccepted, &ans)
	if status == http.StatusConflict {
		var stale struct {
			Version int64 `json:"version"`
		}
		_ = json.Unmarshal(raw, &stale)
		return ans, &staleError{running: stale.Version}
	}
	return ans, err
}

func (c *client) uploadCert(ctx context.Context, ampID, lbID, name string, pem []byte) error {
	path := "loadbalancer/" + url.PathEscape(ampID) + "/" + url.PathEscape(lbID) + "/certificates/" + url.PathEscape(name)
	_, _, err := c.do(ctx, "upload certificate", http.MethodPut, path, pem, "application/x-pem-file", http.StatusOK, nil)
	return err
}

func (c *client) action(ctx context.Context, lbID, action string) error {
	_, _, err := c.do(ctx, action+" haproxy", http.MethodPut, "loadbalancer/"+url.PathEscape(lbID)+"/"+action, nil, "", http.StatusAccepted, nil)
	return err
}

func (c *client) plugVIP(ctx context.Context, vip string, netInfo map[string]any) error {
	body, err := json.Marshal(netInfo)
	if err != nil {
		return err
	}
	_, _, err = c.do(ctx, "plug VIP", http.MethodPost, "plug/vip/"+url.PathEscape(vip), body, "application/json", http.StatusAccepted, nil)
	return err
}

func (c *client) updateAgentConfig(ctx context.Context, body []byte) error {
	_, _, err := c.do(ctx, "update agent configuration", http.MethodPut, "config", body, "application/yaml", http.StatusAccepted, nil)
	return err
}

func (c *client) updateServerCert(ctx context.Context, pem []byte) error {
	_, _, err := c.do(ctx, "update agent certificate", http.MethodPut, "certificate", pem, "application/x-pem-file", http.StatusAccepted, nil)
	return err
}

// maxAnswer bounds what the driver reads from an agent.
const maxAnswer = 1 << 20

// do sends a request and decodes a JSON answer of status want into out.
// Another status is an *AgentError; the status and the body are returned
// either way (0 when there was no answer).
func (c *client) do(ctx context.Context, op, method, path string, body []byte, contentType string, want int, out any) (int, []byte, error) {
	u := c.base
	ref, err := url.Parse(path)
	if err != nil {
		return 0, nil, fmt.Errorf("amphora agent: %s: %w", op, err)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.ResolveReference(ref).String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("amphora agent: %s: %w", op, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", "octavia-es amphora rest driver")
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("amphora agent at %s: %s: %w", c.base.Host, op, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return resp.StatusCode, raw, fmt.Errorf("amphora agent at %s: %s: %w", c.base.Host, op, err)
	}
	if resp.StatusCode != want {
		ae := &AgentError{Op: op, Status: resp.StatusCode}
		var msg struct {
			Message string `json:"message"`
			Details string `json:"details"`
			Error   string `json:"error"`
		}
		if json.Unmarshal(raw, &msg) == nil {
			ae.Message, ae.Details = msg.Message, msg.Details
			if ae.Message == "" {
				ae.Message = msg.Error
			}
		}
		if ae.Message == "" {
			ae.Message = http.StatusText(resp.StatusCode)
		}
		return resp.StatusCode, raw, ae
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, raw, fmt.Errorf("amphora agent at %s: %s: answer: %w", c.base.Host, op, err)
		}
	}
	return resp.StatusCode, raw, nil
}
