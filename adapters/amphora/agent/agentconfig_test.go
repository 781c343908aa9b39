package agent

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/octavia-es/octavia-es/adapters/amphora/heartbeat"
)

func (h *heartbeats) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.msgs)
}

func readAgentYAML(t *testing.T, path string) (Config, []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("agent.yaml unreadable: %v\n%s", err, raw)
	}
	return c, raw
}

// PUT /1.0/config: refused updates change nothing; an accepted one
// rewrites agent.yaml and moves the heartbeats at once, without touching
// HAProxy.
func TestAgentConfigUpdate(t *testing.T) {
	requireHAProxy(t)
	base := deepTempDir(t)
	p := newPKI(t, base)
	hbA := startHeartbeats(t)
	hbB := startHeartbeatsKey(t, "the-new-key")
	a := startAgent(t, base, p, []string{hbA.r.Addr().String()})
	b1 := startBackend(t, "one")
	port := freePort(t)
	a.mustCall(t, "PUT", uploadPath("1"), lbConfig(base, port, map[string]int{testM1: b1.port}, 1), http.StatusAccepted)
	a.mustCall(t, "PUT", lbPath+"/start", nil, http.StatusAccepted)
	pid := a.mustCall(t, "GET", lbPath+"/status", nil, http.StatusOK)["pid"]
	hbA.waitFor(t, "the listener", func(ms []heartbeat.Message) bool { return ms[len(ms)-1].Listeners[testL1].Status == "OPEN" })
	_, before := readAgentYAML(t, a.cfg.File)

	newTarget := hbB.r.Addr().String()
	refused := []struct {
		name, body, want string
	}{
		{"empty", "", "empty configuration"},
		{"not a mapping", "[1, 2", "not a YAML or JSON mapping"},
		{"fixed keys", "listen: 127.0.0.1:1\nbase_dir: /tmp\nheartbeat: {interval: 1s}\n", "base_dir, listen cannot change on a running amphora"},
		{"unknown key", "colour: blue\n", "colour"},
		{"unknown heartbeat key", "heartbeat: {targets: [" + newTarget + "], key: k, period: 1s}\n", "period"},
		{"another amphora", "amphora_id: someone-else\nheartbeat: {targets: [" + newTarget + "], key: k}\n", "this is amphora " + testAmp + ", not someone-else"},
		{"targets without a key", "heartbeat: {targets: [" + newTarget + "]}\n", "heartbeat.key is required"},
		{"target not host:port", "heartbeat: {targets: [nowhere], key: k}\n", "nowhere"},
		{"negative interval", "heartbeat: {interval: -1s}\n", "must be positive"},
		{"interval not a duration", "heartbeat: {interval: 5}\n", "time.Duration"},
	}
	for _, tc := range refused {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			v := a.mustCall(t, "PUT", "/1.0/config", []byte(tc.body), http.StatusBadRequest)
			if v["message"] != "Unable to update amphora-agent configuration." || !strings.Contains(v["details"].(string), tc.want) {
				t.Fatalf("answer %v, want details mentioning %q", v, tc.want)
			}
			if _, after := readAgentYAML(t, a.cfg.File); !bytes.Equal(after, before) {
				t.Fatalf("a refused update rewrote agent.yaml:\n%s", after)
			}
		})
	}
	a.mustCall(t, "GET", "/1.0/config", nil, http.StatusMethodNotAllowed)
	if hbB.count() != 0 {
		t.Fatal("a refused update sent heartbeats to its target")
	}

	t.Run("only with the controller's certificate", func(t *testing.T) {
		hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: p.ca.CertPool(), ServerName: testAmp},
		}}
		req, _ := http.NewRequest("PUT", a.url+"/1.0/config", strings.NewReader("heartbeat: {interval: 1s}\n"))
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("answered %d without a client certificate", resp.StatusCode)
		}
	})

	t.Run("accepted", func(t *testing.T) {
		body := "amphora_id: " + testAmp + "\nheartbeat:\n  targets: [" + newTarget + "]\n  interval: 50ms\n  key: the-new-key\n"
		if v := a.mustCall(t, "PUT", "/1.0/config", []byte(body), http.StatusAccepted); v["message"] != "OK" {
			t.Fatalf("answer %v", v)
		}
		// The new target gets heartbeats at the new interval, signed with
		// the new key, carrying the listener HAProxy still serves.
		start := time.Now()
		hbB.waitFor(t, "10 heartbeats with the listener", func(ms []heartbeat.Message) bool {
			return len(ms) >= 10 && ms[len(ms)-1].Listeners[testL1].Status == "OPEN"
		})
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("10 heartbeats took %v at a 50 ms interval", el)
		}
		if d := hbB.r.Dropped(); d != (heartbeat.Dropped{}) {
			t.Fatalf("new target dropped %+v", d)
		}
		n := hbA.count()
		time.Sleep(300 * time.Millisecond) // three of the old intervals
		if hbA.count() != n {
			t.Fatal("the old target still gets heartbeats")
		}
		// agent.yaml: the new heartbeat section, the rest as it was.
		got, _ := readAgentYAML(t, a.cfg.File)
		want := a.cfg
		want.Heartbeat = HeartbeatConfig{Targets: []string{newTarget}, Interval: 50 * time.Millisecond, Key: "the-new-key"}
		want.File = ""
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("agent.yaml = %+v\nwant %+v", got, want)
		}
		if st, err := os.Stat(a.cfg.File); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("agent.yaml mode %v, %v", st.Mode(), err)
		}
		// HAProxy untouched, still serving.
		if now := a.mustCall(t, "GET", lbPath+"/status", nil, http.StatusOK)["pid"]; now != pid {
			t.Fatalf("haproxy pid %v, was %v", now, pid)
		}
		if s, err := get(closingClient(), port); err != nil || s != "one" {
			t.Fatalf("through haproxy: %q, %v", s, err)
		}
	})

	t.Run("kept across a restart", func(t *testing.T) {
		a.stop()
		cfg, _ := readAgentYAML(t, a.cfg.File)
		cfg.File = a.cfg.File
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- Serve(ctx, cfg, ln, testLog(t)) }()
		defer func() { cancel(); <-done }()
		n := hbB.count()
		hbB.waitFor(t, "heartbeats from the restarted agent", func(ms []heartbeat.Message) bool { return len(ms) > n+2 })
	})
}

// Without its configuration file, the agent refuses a change it could not
// keep, and applies nothing.
func TestAgentConfigUpdateNeedsFile(t *testing.T) {
	requireHAProxy(t)
	base := deepTempDir(t)
	p := newPKI(t, base)
	hb := startHeartbeats(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{AmphoraID: testAmp, BaseDir: base + "/lbs",
		TLS: TLSConfig{CertFile: p.certFile, KeyFile: p.keyFile, ClientCAFile: p.caFile}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, cfg, ln, testLog(t)) }()
	defer func() { cancel(); <-done }()
	a := &runningAgent{url: "https://" + ln.Addr().String(),
		hc: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: p.client}}}
	deadline := time.Now().Add(10 * time.Second)
	for code, _ := a.call(t, "GET", "/", nil); code != http.StatusOK; code, _ = a.call(t, "GET", "/", nil) {
		if time.Now().After(deadline) {
			t.Fatal("agent did not answer")
		}
		time.Sleep(20 * time.Millisecond)
	}
	body := "heartbeat: {targets: [" + hb.r.Addr().String() + "], interval: 20ms, key: " + testKey + "}\n"
	v := a.mustCall(t, "PUT", "/1.0/config", []byte(body), http.StatusInternalServerError)
	if !strings.Contains(v["details"].(string), "without a configuration file") {
		t.Fatalf("answer %v", v)
	}
	time.Sleep(200 * time.Millisecond)
	if hb.count() != 0 {
		t.Fatal("a refused update was applied")
	}
}
