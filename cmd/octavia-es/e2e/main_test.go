// Package e2e drives the real octavia-es binary over real HTTP: gophercloud
// (api_test.go), Debian's openstack CLI (cli_test.go) and restarts
// (restart_test.go). TestMain builds the binary once; every test starts its
// own server on a free loopback port with its own data directory.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// binary is the octavia-es built by TestMain; set once before any test runs.
var binary string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "octavia-es-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)

	binary = filepath.Join(dir, "octavia-es")
	build := exec.Command("go", "build", "-o", binary, "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: go build ../ (cmd/octavia-es) failed:", err)
		return 1
	}
	code := m.Run()
	// Amphorae outlive the controller by design; the tests stop theirs.
	if left := procsMatching(binary + " amphora-agent"); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "e2e: amphora agents left running: %v\n", left)
		for _, p := range left {
			_ = syscall.Kill(p.pid, syscall.SIGKILL)
		}
		return 1
	}
	return code
}
