package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStartServerFailsFast(t *testing.T) {
	falseBin, err := exec.LookPath("false")
	if err != nil {
		t.Skip("no false(1) on this machine")
	}
	tests := []struct {
		name, bin, want string
	}{
		{"binary missing", "/nonexistent/octavia-es", "start /nonexistent/octavia-es"},
		{"exits at once", falseBin, "exited before it was ready"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := StartServer(context.Background(), tc.bin, "etc/none.yaml", io.Discard, 10*time.Second)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("took %s: a dead server must be noticed before the ready timeout", time.Since(start))
			}
		})
	}
}

func TestSubnetFromConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path, want string
	}{
		{"first subnet", write("a.yaml", "network:\n  subnets:\n    - id: s-1\n    - id: s-2\n"), "s-1"},
		{"no subnets", write("b.yaml", "api:\n  listen: 127.0.0.1:1\n"), fallbackSubnet},
		{"not yaml", write("c.yaml", "network: [\n"), fallbackSubnet},
		{"missing file", filepath.Join(dir, "none.yaml"), fallbackSubnet},
	}
	for _, tc := range tests {
		if got := subnetFromConfig(tc.path); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}
