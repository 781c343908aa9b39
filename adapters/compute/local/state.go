package local

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/octavia-es/octavia-es/adapters/compute"
)

// Files of an amphora's working directory.
const (
	stateFile   = "amphora.json" // written before the agent starts
	pidFile     = "agent.pid"    // written once it has started
	configFile  = "agent.yaml"
	logFile     = "agent.log" // the agent's stdout and stderr
	certFile    = "server.pem"
	keyFile     = "server.key"
	caFile      = "ca.pem"
	haproxyBase = "haproxy" // the agent's base_dir
)

// state is what a working directory records about its amphora, so that a
// restarted controller can adopt (or clean up) it.
type state struct {
	AmphoraID      string `json:"amphora_id"`
	ComputeID      string `json:"compute_id"`
	LoadBalancerID string `json:"loadbalancer_id"`
	Role           string `json:"role"`
	LBNetworkIP    string `json:"lb_network_ip"`
	AgentPort      int    `json:"agent_port"`
	ImageID        string `json:"image_id,omitempty"`
	ComputeFlavor  string `json:"compute_flavor,omitempty"`
}

func (s state) amphora() compute.Amphora {
	return compute.Amphora{
		ComputeID:     s.ComputeID,
		LBNetworkIP:   s.LBNetworkIP,
		AgentPort:     s.AgentPort,
		ImageID:       s.ImageID,
		ComputeFlavor: s.ComputeFlavor,
	}
}

func writeState(dir string, s state) error {
	raw, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, stateFile), append(raw, '\n'))
}

func readState(dir string) (state, error) {
	var s state
	raw, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, fmt.Errorf("%s: %w", stateFile, err)
	}
	if s.AmphoraID == "" || s.ComputeID == "" || s.AgentPort <= 0 {
		return s, fmt.Errorf("%s: incomplete record %+v", stateFile, s)
	}
	return s, nil
}

func writePID(dir string, pid int) error {
	return writeFile(filepath.Join(dir, pidFile), []byte(strconv.Itoa(pid)+"\n"))
}

// readPID returns 0 when the file is missing.
func readPID(dir string) (int, error) {
	raw, err := os.ReadFile(filepath.Join(dir, pidFile))
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%s: bad pid %q", pidFile, raw)
	}
	return pid, nil
}

// writeFile writes data readable by the owner only: working directories
// hold private keys and the heartbeat key. The rename makes the write
// atomic, so a crash never leaves a half-written file to adopt.
func writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}
