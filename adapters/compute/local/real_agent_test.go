package local

import (
	"context"
	"os/exec"
	"testing"

	"github.com/octavia-es/octavia-es/adapters/compute"
)

// TestRealAgent boots `octavia-es amphora-agent` itself, probed with a
// client certificate (GET /1.0/info), when the binary has the subcommand.
func TestRealAgent(t *testing.T) {
	if realAgent == "" {
		t.Skip("cmd/octavia-es has no amphora-agent subcommand yet (or does not build, or -short)")
	}
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Skip("haproxy is not installed")
	}
	f := newFixture(t)
	f.cfg.Executable = realAgent
	f.cfg.HAProxyBinary = ""
	f.deps.ClientCert = &f.ca.client
	d := f.driver(t)
	a := mustCreate(t, d, ampA)
	if st := status(t, d, a.ComputeID); st != compute.StatusOnline {
		t.Fatalf("Status = %s", st)
	}
	pid := agentPID(t, f, ampA)
	if err := d.DeleteAmphora(context.Background(), a.ComputeID); err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		t.Fatalf("agent %d still running after delete", pid)
	}
}
