package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/octavia-es/octavia-es/adapters/amphora/agent"
	"github.com/octavia-es/octavia-es/adapters/certificates/local"
)

func TestAmphoraAgentCommandRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no flag", nil, "usage"},
		{"missing file", []string{"--config", filepath.Join(dir, "none.yaml")}, "no such file"},
		{"unknown key", []string{"--config", write("unknown.yaml", "amphora_id: a\nlisten_on: x\n")}, "listen_on"},
		{"invalid", []string{"--config", write("invalid.yaml", "amphora_id: a\n")}, "base_dir is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if code := run(context.Background(), append([]string{"amphora-agent"}, tt.args...), nil, &bytes.Buffer{}, &stderr); code != 2 {
				t.Fatalf("exit %d, want 2 (stderr %s)", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("stderr %q does not mention %q", stderr.String(), tt.want)
			}
		})
	}
}

// The command reads the YAML the local compute driver writes (yaml.Marshal
// of agent.Config), serves, and exits 0 when its context ends.
func TestAmphoraAgentCommandServesUntilCanceled(t *testing.T) {
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Skip("haproxy not installed")
	}
	dir, err := os.MkdirTemp("", "agtcmd")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	ca, err := local.NewCA(filepath.Join(dir, "ca"))
	if err != nil {
		t.Fatal(err)
	}
	const amp = "5e6f7a8b-0000-4000-8000-000000000001"
	sc, sk, _ := ca.IssueServer(ctx, amp, []string{"127.0.0.1"}, time.Hour)
	cc, ck, _ := ca.IssueClient(ctx, "controller", time.Hour)
	for name, b := range map[string][]byte{"s.pem": sc, "s.key": sk, "ca.pem": ca.CACertPEM()} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	raw, err := yaml.Marshal(agent.Config{
		AmphoraID: amp, Listen: addr, BaseDir: filepath.Join(dir, "haproxy"),
		TLS:       agent.TLSConfig{CertFile: filepath.Join(dir, "s.pem"), KeyFile: filepath.Join(dir, "s.key"), ClientCAFile: filepath.Join(dir, "ca.pem")},
		Heartbeat: agent.HeartbeatConfig{Targets: []string{"127.0.0.1:9"}, Interval: 250 * time.Millisecond, Key: "k"},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(cfgPath, raw, 0o600); err != nil {
		t.Fatal(err)
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(runCtx, []string{"amphora-agent", "--config", cfgPath}, nil, &bytes.Buffer{}, &stderr)
	}()

	cert, _ := tls.X509KeyPair(cc, ck)
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		Certificates: []tls.Certificate{cert}, RootCAs: ca.CertPool(), ServerName: amp, MinVersion: tls.VersionTLS12,
	}}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := hc.Get("https://" + addr + "/1.0/info")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("info: %d", resp.StatusCode)
			}
			break
		}
		select {
		case code := <-done:
			t.Fatalf("agent exited %d: %s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent did not answer: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("agent did not stop")
	}
	if !strings.Contains(stderr.String(), "amphora agent stopped") {
		t.Fatalf("stderr: %s", stderr.String())
	}
}
