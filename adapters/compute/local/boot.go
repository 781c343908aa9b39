package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/octavia-es/octavia-es/adapters/amphora/agent"
	"github.com/octavia-es/octavia-es/adapters/compute"
)

// boot prepares the working directory, starts the agent and waits for it to
// answer. On error nothing is left: no process, no directory, no port.
func (d *Driver) boot(ctx context.Context, inst *instance, req compute.AmphoraRequest) (_ compute.Amphora, err error) {
	start := time.Now()
	var proc *process
	defer func() {
		if err == nil {
			return
		}
		if proc != nil {
			if serr := proc.stop(context.WithoutCancel(ctx), 0); serr != nil {
				d.log.ErrorContext(ctx, "a failed amphora boot left its agent running", "amphora_id", inst.amphoraID, "pid", proc.pid, "error", serr)
			}
		}
		_ = os.RemoveAll(inst.dir)
		d.mu.Lock()
		inst.proc, inst.ready = nil, false
		d.freePort(inst)
		d.mu.Unlock()
	}()

	if err := os.RemoveAll(inst.dir); err != nil { // leftovers of an earlier life
		return compute.Amphora{}, err
	}
	if err := os.MkdirAll(filepath.Join(inst.dir, haproxyBase), 0o700); err != nil {
		return compute.Amphora{}, err
	}
	port, err := d.allocatePort(inst)
	if err != nil {
		return compute.Amphora{}, err
	}
	inst.st = state{
		AmphoraID:      inst.amphoraID,
		ComputeID:      inst.computeID,
		LoadBalancerID: req.LoadBalancerID,
		Role:           req.Role,
		LBNetworkIP:    d.cfg.LBNetworkIP,
		AgentPort:      port,
		ImageID:        req.ImageID,
		ComputeFlavor:  req.FlavorID,
	}
	configPath, err := d.writeAgentFiles(ctx, inst)
	if err != nil {
		return compute.Amphora{}, err
	}
	if err := writeState(inst.dir, inst.st); err != nil {
		return compute.Amphora{}, err
	}
	proc, err = startProcess(d.cfg.Executable, agentArgs(configPath), inst.dir, filepath.Join(inst.dir, logFile), d.onExit(inst.amphoraID, inst.dir))
	if err != nil {
		return compute.Amphora{}, fmt.Errorf("start agent: %w", err)
	}
	if err := writePID(inst.dir, proc.pid); err != nil {
		return compute.Amphora{}, err
	}
	d.mu.Lock()
	inst.proc = proc
	d.mu.Unlock()
	if err := d.waitReady(ctx, inst, proc); err != nil {
		return compute.Amphora{}, err
	}
	d.mu.Lock()
	inst.ready = true
	d.mu.Unlock()
	d.log.InfoContext(ctx, "amphora booted", "amphora_id", inst.amphoraID, "compute_id", inst.computeID,
		"pid", proc.pid, "agent", net.JoinHostPort(d.cfg.LBNetworkIP, strconv.Itoa(port)), "took", time.Since(start))
	return inst.st.amphora(), nil
}

// writeAgentFiles writes the certificate, key, CA and agent.yaml, and
// returns agent.yaml's path.
func (d *Driver) writeAgentFiles(ctx context.Context, inst *instance) (string, error) {
	certPEM, keyPEM, err := d.ca.IssueServer(ctx, inst.amphoraID, []string{d.cfg.LBNetworkIP}, d.cfg.CertValidity)
	if err != nil {
		return "", fmt.Errorf("issue the agent's certificate: %w", err)
	}
	cfg := agent.Config{
		AmphoraID: inst.amphoraID,
		Listen:    net.JoinHostPort(d.cfg.LBNetworkIP, strconv.Itoa(inst.st.AgentPort)),
		BaseDir:   filepath.Join(inst.dir, haproxyBase),
		TLS: agent.TLSConfig{
			CertFile:     filepath.Join(inst.dir, certFile),
			KeyFile:      filepath.Join(inst.dir, keyFile),
			ClientCAFile: filepath.Join(inst.dir, caFile),
		},
		HAProxyBinary: d.cfg.HAProxyBinary,
		Heartbeat:     d.cfg.Heartbeat,
	}
	raw, err := yaml.Marshal(cfg)
	if err != nil {
		return "", err
	}
	configPath := filepath.Join(inst.dir, configFile)
	for path, data := range map[string][]byte{
		cfg.TLS.CertFile:     certPEM,
		cfg.TLS.KeyFile:      keyPEM,
		cfg.TLS.ClientCAFile: d.caPEM,
		configPath:           raw,
	} {
		if err := writeFile(path, data); err != nil {
			return "", err
		}
	}
	return configPath, nil
}

// allocatePort picks a free port on the lb network ip that no other
// amphora of this driver holds, and holds it for inst.
func (d *Driver) allocatePort(inst *instance) (int, error) {
	for range 20 {
		ln, err := net.Listen("tcp", net.JoinHostPort(d.cfg.LBNetworkIP, "0"))
		if err != nil {
			return 0, fmt.Errorf("find a free agent port: %w", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		d.mu.Lock()
		if _, taken := d.ports[port]; !taken {
			d.freePort(inst)
			d.ports[port], inst.port = inst.amphoraID, port
			d.mu.Unlock()
			return port, nil
		}
		d.mu.Unlock()
	}
	return 0, errors.New("find a free agent port: every port offered is held by another amphora")
}

// waitReady polls the agent until it answers, it exits, boot_timeout passes
// or ctx ends.
func (d *Driver) waitReady(ctx context.Context, inst *instance, proc *process) error {
	deadline := time.NewTimer(d.cfg.BootTimeout)
	defer deadline.Stop()
	addr := net.JoinHostPort(d.cfg.LBNetworkIP, strconv.Itoa(inst.st.AgentPort))
	// A refused connection on loopback costs microseconds: poll often, as
	// boot time is most of a load balancer's time to ACTIVE.
	wait := 10 * time.Millisecond
	var last error
	for {
		if last = d.prober.probe(ctx, inst.amphoraID, addr); last == nil {
			return nil
		}
		select {
		case <-proc.done:
			return fmt.Errorf("agent exited during boot (%s): %s", proc.exit, logTail(filepath.Join(inst.dir, logFile)))
		case <-ctx.Done():
			return fmt.Errorf("waiting for the agent: %w", ctx.Err())
		case <-deadline.C:
			return fmt.Errorf("agent did not answer on %s within %s: %w", addr, d.cfg.BootTimeout, last)
		case <-time.After(wait):
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// logTail is the end of an agent's log, for error messages.
func logTail(path string) string {
	const tailBytes = 1024
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(0, st.Size()-tailBytes)
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil {
		return ""
	}
	return strings.TrimSpace(string(buf))
}
