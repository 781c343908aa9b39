package agent

import (
	"crypto/tls"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/amphora/heartbeat"
)

const lbPath = "/1.0/loadbalancer/" + testLB

func uploadPath(version string) string {
	p := "/1.0/loadbalancer/" + testAmp + "/" + testLB + "/haproxy"
	if version != "" {
		p += "?version=" + version
	}
	return p
}

// TestAgentLifecycle drives one agent through Octavia's sequence on a real
// HAProxy: upload, start, traffic, reloads under load, heartbeats with
// counters and member health, stop, delete.
func TestAgentLifecycle(t *testing.T) {
	requireHAProxy(t)
	base := deepTempDir(t)
	p := newPKI(t, base)
	hb := startHeartbeats(t)
	a := startAgent(t, base, p, []string{hb.r.Addr().String()})
	b1, b2 := startBackend(t, "one"), startBackend(t, "two")
	port := freePort(t)
	members := map[string]int{testM1: b1.port, testM2: b2.port}
	client := closingClient()

	t.Run("info", func(t *testing.T) {
		info := a.mustCall(t, "GET", "/1.0/info", nil, http.StatusOK)
		if info["api_version"] != "1.0" || info["hostname"] == "" || !strings.HasPrefix(info["haproxy_version"].(string), "2.") ||
			info["amphora_id"] != testAmp || info["base_path"] != a.cfg.BaseDir {
			t.Fatalf("info = %v", info)
		}
		d := a.mustCall(t, "GET", "/1.0/details", nil, http.StatusOK)
		if d["haproxy_count"] != 0.0 || d["topology"] != "SINGLE" || d["api_version"] != "1.0" {
			t.Fatalf("details = %v", d)
		}
	})

	t.Run("upload refuses what haproxy refuses", func(t *testing.T) {
		bad := append(lbConfig(base, port, members, 1), []byte("    bogus_keyword on\n")...)
		v := a.mustCall(t, "PUT", uploadPath(""), bad, http.StatusBadRequest)
		if v["message"] != "Invalid request" || !strings.Contains(v["details"].(string), "bogus_keyword") {
			t.Fatalf("answer %v, want haproxy's message about bogus_keyword", v)
		}
		a.mustCall(t, "GET", lbPath+"/status", nil, http.StatusNotFound)
		noSocket := []byte("global\n    maxconn 10\ndefaults\n    mode http\n")
		a.mustCall(t, "PUT", uploadPath(""), noSocket, http.StatusBadRequest)
		other := "/1.0/loadbalancer/another-amphora/" + testLB + "/haproxy"
		a.mustCall(t, "PUT", other, lbConfig(base, port, members, 1), http.StatusBadRequest)
		a.mustCall(t, "PUT", "/1.0/loadbalancer/"+testAmp+"/..%2Fescape/haproxy", lbConfig(base, port, members, 1), http.StatusBadRequest)
		a.mustCall(t, "PUT", uploadPath("x"), lbConfig(base, port, members, 1), http.StatusBadRequest)
	})

	t.Run("upload start and serve", func(t *testing.T) {
		cfg := lbConfig(base, port, members, 1)
		code, body, h := a.callH(t, "PUT", uploadPath("2"), cfg)
		if code != http.StatusAccepted || !strings.Contains(string(body), `"changed":true`) || !strings.Contains(string(body), `"running":false`) || h.Get("ETag") == "" {
			t.Fatalf("upload = %d %s (ETag %q)", code, body, h.Get("ETag"))
		}
		a.mustCall(t, "PUT", lbPath+"/start", nil, http.StatusAccepted)
		st := a.mustCall(t, "GET", lbPath+"/status", nil, http.StatusOK)
		if st["status"] != "ACTIVE" || st["running"] != true || st["version"] != 2.0 {
			t.Fatalf("status = %v", st)
		}
		code, got, h := a.callH(t, "GET", lbPath+"/haproxy", nil)
		if code != http.StatusOK || string(got) != string(cfg) || h.Get("ETag") != st["config_md5"] {
			t.Fatalf("GET haproxy = %d, ETag %q vs md5 %v", code, h.Get("ETag"), st["config_md5"])
		}
		seen := map[string]bool{}
		for range 4 {
			s, err := get(client, port)
			if err != nil {
				t.Fatalf("request through haproxy: %v", err)
			}
			seen[s] = true
		}
		if !seen["one"] || !seen["two"] {
			t.Fatalf("round robin reached %v, want both backends", seen)
		}
		ls := a.mustCall(t, "GET", "/1.0/details", nil, http.StatusOK)
		if ls["haproxy_count"] != 1.0 {
			t.Fatalf("haproxy_count = %v", ls["haproxy_count"])
		}
		code, body = a.call(t, "GET", "/1.0/listeners", nil)
		if want := `[{"status":"ACTIVE","uuid":"` + testL1 + `","type":"HTTP"}]`; code != http.StatusOK || strings.TrimSpace(string(body)) != want {
			t.Fatalf("listeners = %d %s, want %s", code, body, want)
		}
	})

	t.Run("heartbeats count every connection once", func(t *testing.T) {
		// 4 requests so far, plus 16 more: 20 frontend connections.
		for range 16 {
			if _, err := get(client, port); err != nil {
				t.Fatal(err)
			}
		}
		hb.waitFor(t, "20 connections", func(ms []heartbeat.Message) bool { return totConns(ms) == 20 })
		hb.waitFor(t, "both members UP", func(ms []heartbeat.Message) bool {
			m := ms[len(ms)-1]
			pool := m.Pools[testP1+":"+testL1]
			return m.AmphoraID == testAmp && m.Listeners[testL1].Status == "OPEN" && pool.Status == "UP" &&
				pool.Members[testM1] == "UP" && pool.Members[testM2] == "UP"
		})
		time.Sleep(300 * time.Millisecond) // three more heartbeats
		hb.mu.Lock()
		n := totConns(hb.msgs)
		hb.mu.Unlock()
		if n != 20 {
			t.Fatalf("heartbeats counted %d connections, want 20", n)
		}
	})

	t.Run("reload under load drops nothing", func(t *testing.T) {
		pidsBefore := haproxyPIDs(t, LBPaths(a.cfg.BaseDir, testLB).MasterSocket)
		var ok, failed atomic.Int64
		var firstErr atomic.Value
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := get(client, port); err != nil {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
					} else {
						ok.Add(1)
					}
				}
			}()
		}
		for i := range 3 {
			time.Sleep(100 * time.Millisecond)
			v := a.mustCall(t, "PUT", uploadPath("3"), lbConfig(base, port, members, 2+i), http.StatusAccepted)
			if v["changed"] != true || v["running"] != true {
				t.Errorf("upload #%d = %v", i, v)
			}
			a.mustCall(t, "PUT", lbPath+"/reload", nil, http.StatusAccepted)
		}
		time.Sleep(100 * time.Millisecond)
		close(stop)
		wg.Wait()
		if failed.Load() != 0 || ok.Load() < 10 {
			t.Fatalf("during reloads: %d ok, %d failed (first: %v)", ok.Load(), failed.Load(), firstErr.Load())
		}
		// An identical upload is reported unchanged (the driver skips the reload).
		if v := a.mustCall(t, "PUT", uploadPath("3"), lbConfig(base, port, members, 4), http.StatusAccepted); v["changed"] != false {
			t.Fatalf("identical upload: %v", v)
		}
		// The old workers finish and leave.
		after := haproxyPIDs(t, LBPaths(a.cfg.BaseDir, testLB).MasterSocket)
		if after[0] != pidsBefore[0] {
			t.Fatalf("the master changed across reloads: %d -> %d", pidsBefore[0], after[0])
		}
		waitGone(t, pidsBefore[1:])
		// Counters: every connection counted once across the reloads (the
		// old workers' final counts are read after they stopped accepting).
		total := 20 + ok.Load()
		hb.waitFor(t, "the connections made during reloads", func(ms []heartbeat.Message) bool {
			return totConns(ms) >= total
		})
		time.Sleep(300 * time.Millisecond)
		hb.mu.Lock()
		n := totConns(hb.msgs)
		hb.mu.Unlock()
		if n != total {
			t.Fatalf("heartbeats counted %d connections, want the %d made", n, total)
		}
	})

	t.Run("stale version is kept out", func(t *testing.T) {
		v := a.mustCall(t, "PUT", uploadPath("1"), lbConfig(base, port, map[string]int{testM1: b1.port}, 1), http.StatusConflict)
		if v["version"] != 3.0 {
			t.Fatalf("stale answer %v", v)
		}
		st := a.mustCall(t, "GET", lbPath+"/status", nil, http.StatusOK)
		if st["version"] != 3.0 {
			t.Fatalf("version after a stale upload = %v", st["version"])
		}
	})

	t.Run("a stopped backend is reported DOWN", func(t *testing.T) {
		b2.close()
		hb.waitFor(t, "member 2 DOWN, member 1 UP", func(ms []heartbeat.Message) bool {
			pool := ms[len(ms)-1].Pools[testP1+":"+testL1]
			return pool.Status == "UP" && pool.Members[testM1] == "UP" && strings.HasPrefix(pool.Members[testM2], "DOWN")
		})
		for range 4 {
			if s, err := get(client, port); err != nil || s != "one" {
				t.Fatalf("with member 2 down: %q, %v", s, err)
			}
		}
	})

	t.Run("supervised: a killed haproxy comes back", func(t *testing.T) {
		sock := LBPaths(a.cfg.BaseDir, testLB).MasterSocket
		pids := haproxyPIDs(t, sock)
		if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitGone(t, pids)
		deadline := time.Now().Add(10 * time.Second)
		for {
			if s, err := get(client, port); err == nil && s == "one" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("haproxy was not restarted")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	t.Run("stop, reload starts, delete", func(t *testing.T) {
		pids := haproxyPIDs(t, LBPaths(a.cfg.BaseDir, testLB).MasterSocket)
		a.mustCall(t, "PUT", lbPath+"/stop", nil, http.StatusAccepted)
		waitGone(t, pids)
		if st := a.mustCall(t, "GET", lbPath+"/status", nil, http.StatusOK); st["status"] != "OFFLINE" {
			t.Fatalf("status after stop = %v", st)
		}
		if _, err := get(client, port); err == nil {
			t.Fatal("a stopped load balancer answered")
		}
		a.mustCall(t, "PUT", lbPath+"/reload", nil, http.StatusAccepted)
		if _, err := get(client, port); err != nil {
			t.Fatalf("reload of a stopped load balancer did not start it: %v", err)
		}
		a.mustCall(t, "PUT", lbPath+"/restart", nil, http.StatusBadRequest)
		pids = haproxyPIDs(t, LBPaths(a.cfg.BaseDir, testLB).MasterSocket)
		a.mustCall(t, "DELETE", lbPath, nil, http.StatusOK)
		waitGone(t, pids)
		a.mustCall(t, "GET", lbPath+"/status", nil, http.StatusNotFound)
		a.mustCall(t, "PUT", lbPath+"/start", nil, http.StatusNotFound)
		if _, err := os.Stat(LBPaths(a.cfg.BaseDir, testLB).Dir); !os.IsNotExist(err) {
			t.Fatalf("load balancer directory left: %v", err)
		}
		a.mustCall(t, "DELETE", lbPath, nil, http.StatusOK)                   // idempotent
		a.mustCall(t, "DELETE", "/1.0/listeners/"+testLB, nil, http.StatusOK) // Octavia's 1.0 path
	})
}

func TestAgentMutualTLS(t *testing.T) {
	requireHAProxy(t)
	base := deepTempDir(t)
	p := newPKI(t, base)
	a := startAgent(t, base, p, nil)
	other := newPKI(t, deepTempDir(t))
	tests := []struct {
		name string
		conf *tls.Config
	}{
		{"no client certificate", &tls.Config{RootCAs: p.ca.CertPool(), ServerName: testAmp}},
		{"certificate of another CA", &tls.Config{Certificates: other.client.Certificates, RootCAs: p.ca.CertPool(), ServerName: testAmp}},
		{"TLS 1.1", &tls.Config{Certificates: p.client.Certificates, RootCAs: p.ca.CertPool(), ServerName: testAmp, MaxVersion: tls.VersionTLS11}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tt.conf}}
			resp, err := hc.Get(a.url + "/1.0/info")
			if err == nil {
				resp.Body.Close()
				t.Fatalf("answered %d, want the handshake refused", resp.StatusCode)
			}
		})
	}
	a.mustCall(t, "GET", "/1.0/info", nil, http.StatusOK)
}

func TestAgentAPIErrors(t *testing.T) {
	requireHAProxy(t)
	base := deepTempDir(t)
	a := startAgent(t, base, newPKI(t, base), nil)
	if v := a.mustCall(t, "GET", "/1.0/nothing", nil, http.StatusNotFound); v["http_code"] != 404.0 || v["error"] == nil {
		t.Fatalf("404 body %v", v)
	}
	a.mustCall(t, "POST", "/1.0/info", nil, http.StatusMethodNotAllowed)
	a.mustCall(t, "PUT", "/1.0/loadbalancer/unknown/start", nil, http.StatusNotFound)
	a.mustCall(t, "GET", "/1.0/loadbalancer/unknown/haproxy", nil, http.StatusNotFound)
	a.mustCall(t, "DELETE", "/1.0/loadbalancer/unknown", nil, http.StatusOK)

	for range 2 { // idempotent
		v := a.mustCall(t, "POST", "/1.0/plug/vip/127.100.0.2", []byte(`{"subnet_cidr":"127.100.0.0/16","gateway":null,"mac_address":""}`), http.StatusAccepted)
		if !strings.Contains(v["details"].(string), "127.100.0.2") {
			t.Fatalf("plug answer %v", v)
		}
	}
	a.mustCall(t, "PUT", "/1.0/plug/vip/127.100.0.3", nil, http.StatusAccepted)
	rec, err := os.ReadFile(a.cfg.BaseDir + "/vips.json")
	if err != nil || !strings.Contains(string(rec), `"127.100.0.2"`) || !strings.Contains(string(rec), "127.100.0.0/16") || !strings.Contains(string(rec), `"127.100.0.3"`) {
		t.Fatalf("vips.json = %s, %v", rec, err)
	}
	a.mustCall(t, "POST", "/1.0/plug/vip/not-an-ip", nil, http.StatusBadRequest)
	a.mustCall(t, "POST", "/1.0/plug/vip/127.100.0.4", []byte("{not json"), http.StatusBadRequest)
	a.mustCall(t, "POST", "/1.0/plug/vip/192.0.2.1", nil, http.StatusInternalServerError) // TEST-NET: not on this host
}

// An agent that exits stops its HAProxy; started again on the same
// directory, it starts the load balancers configured there.
func TestAgentRestart(t *testing.T) {
	requireHAProxy(t)
	base := deepTempDir(t)
	p := newPKI(t, base)
	b1 := startBackend(t, "one")
	port := freePort(t)
	a := startAgent(t, base, p, nil)
	a.mustCall(t, "PUT", uploadPath("7"), lbConfig(base, port, map[string]int{testM1: b1.port}, 1), http.StatusAccepted)
	a.mustCall(t, "PUT", lbPath+"/start", nil, http.StatusAccepted)
	pids := haproxyPIDs(t, LBPaths(a.cfg.BaseDir, testLB).MasterSocket)
	a.stop()
	waitGone(t, pids)

	a = startAgent(t, base, p, nil)
	if s, err := get(closingClient(), port); err != nil || s != "one" {
		t.Fatalf("after the agent restarted: %q, %v", s, err)
	}
	st := a.mustCall(t, "GET", lbPath+"/status", nil, http.StatusOK)
	if st["status"] != "ACTIVE" || st["version"] != 7.0 {
		t.Fatalf("status after restart = %v", st)
	}
}

func TestServeRejectsBadConfig(t *testing.T) {
	base := deepTempDir(t)
	p := newPKI(t, base)
	good := Config{AmphoraID: testAmp, Listen: "127.0.0.1:0", BaseDir: base + "/lbs",
		TLS: TLSConfig{CertFile: p.certFile, KeyFile: p.keyFile, ClientCAFile: p.caFile}}
	tests := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"no amphora id", func(c *Config) { c.AmphoraID = "" }, "amphora_id"},
		{"no TLS", func(c *Config) { c.TLS = TLSConfig{} }, "tls"},
		{"heartbeats without a key", func(c *Config) { c.Heartbeat.Targets = []string{"127.0.0.1:1"} }, "heartbeat.key"},
		{"missing certificate", func(c *Config) { c.TLS.CertFile = base + "/none.pem" }, "server certificate"},
		{"no haproxy", func(c *Config) { c.HAProxyBinary = "no-such-haproxy" }, "apt-get install haproxy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.mod(&cfg)
			err := Run(t.Context(), cfg, testLog(t))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Run: %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}
