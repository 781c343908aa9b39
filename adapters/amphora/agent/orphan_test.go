package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// agentConfigEnv makes the test binary an agent process (see TestMain).
const agentConfigEnv = "AGENT_TEST_CONFIG"

func TestMain(m *testing.M) {
	if path := os.Getenv(agentConfigEnv); path != "" {
		os.Exit(runAgentProcess(path))
	}
	os.Exit(m.Run())
}

func runAgentProcess(path string) int {
	raw, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var cfg Config
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, cfg, testLogger()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// An agent killed with SIGKILL (no chance to stop its HAProxy) leaves no
// HAProxy serving: the kernel signals the masters (Pdeathsig) and the
// workers follow. Failover depends on it: the new amphora binds the VIP.
// A SIGTERM'd agent stops them itself.
func TestNoOrphanHAProxy(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Pdeathsig is Linux only")
	}
	requireHAProxy(t)
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			base := deepTempDir(t)
			p := newPKI(t, base)
			port := freePort(t)
			cfg := Config{
				AmphoraID: testAmp, Listen: fmt.Sprintf("127.0.0.1:%d", freePort(t)), BaseDir: filepath.Join(base, "lbs"),
				TLS: TLSConfig{CertFile: p.certFile, KeyFile: p.keyFile, ClientCAFile: p.caFile},
			}
			raw, _ := yaml.Marshal(cfg)
			cfgPath := filepath.Join(base, "agent.yaml")
			if err := os.WriteFile(cfgPath, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), agentConfigEnv+"="+cfgPath)
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			t.Cleanup(func() { _ = cmd.Process.Kill() })

			a := &runningAgent{cfg: cfg, url: "https://" + cfg.Listen, hc: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: p.client}}}
			deadline := time.Now().Add(10 * time.Second)
			for {
				if code, _ := a.call(t, "GET", "/", nil); code == http.StatusOK {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("agent process did not answer")
				}
				time.Sleep(20 * time.Millisecond)
			}
			a.mustCall(t, "PUT", uploadPath("1"), lbConfig(base, port, map[string]int{testM1: 1}, 1), http.StatusAccepted)
			a.mustCall(t, "PUT", lbPath+"/start", nil, http.StatusAccepted)
			pids := haproxyPIDs(t, LBPaths(cfg.BaseDir, testLB).MasterSocket)

			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				t.Fatal("agent did not exit")
			}
			waitGone(t, pids)
			if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
				t.Fatalf("the listener's port is still held: %v", err)
			} else {
				ln.Close()
			}
		})
	}
}

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
