package local

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// adoptAll takes over the amphorae of an earlier controller found under the
// base directory.
func (d *Driver) adoptAll() error {
	entries, err := os.ReadDir(d.cfg.BaseDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(d.cfg.BaseDir, e.Name())
		if err := d.adopt(dir, e.Name()); err != nil {
			return fmt.Errorf("adopt %s: %w", dir, err)
		}
	}
	return nil
}

func (d *Driver) adopt(dir, name string) error {
	configPath := filepath.Join(dir, configFile)
	st, err := readState(dir)
	if err == nil && (st.AmphoraID != name || st.ComputeID != ComputeID(name)) {
		err = fmt.Errorf("%s names amphora %s, compute %s", stateFile, st.AmphoraID, st.ComputeID)
	}
	if err != nil {
		// No usable record: the boot stopped before the agent started (the
		// record is written first), or the directory is not ours to keep.
		for _, pid := range agentsOf(configPath) {
			_ = signalGroup(pid, syscall.SIGKILL)
		}
		d.log.Warn("removing an amphora working directory with no usable record", "dir", dir, "error", err)
		return os.RemoveAll(dir)
	}
	pid, err := readPID(dir)
	if err != nil {
		d.log.Warn("unreadable agent pid file", "dir", dir, "error", err)
	}
	if pid == 0 { // stopped between starting the agent and writing its pid
		if pids := agentsOf(configPath); len(pids) == 1 {
			pid = pids[0]
		}
	}
	inst := &instance{amphoraID: st.AmphoraID, computeID: st.ComputeID, dir: dir, st: st, ready: true, port: st.AgentPort}
	proc, err := adoptProcess(pid, configPath, adoptedPoll, d.closed, d.onExit(st.AmphoraID, dir))
	if err != nil {
		// Dead while no controller watched it: kill what remains of its
		// process group, identified by the amphora's directory since the
		// group id may have been reused.
		if pid > 0 {
			for _, p := range leftoversOf(pid, dir) {
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
		}
		proc = deadProcess(pid, "not running when the controller started")
		d.log.Error("amphora agent found dead; not restarting it (the health manager fails the amphora over)",
			"amphora_id", st.AmphoraID, "pid", pid, "log_tail", logTail(filepath.Join(dir, logFile)))
	} else {
		d.log.Info("amphora adopted", "amphora_id", st.AmphoraID, "pid", pid, "agent_port", st.AgentPort)
	}
	inst.proc = proc
	d.mu.Lock()
	defer d.mu.Unlock()
	if other, ok := d.ports[st.AgentPort]; ok {
		// Both cannot be listening: the port stays with the first.
		d.log.Warn("two amphorae record the same agent port", "agent_port", st.AgentPort, "amphora_id", st.AmphoraID, "other", other)
		inst.port = 0
	} else {
		d.ports[st.AgentPort] = st.AmphoraID
	}
	d.instances[st.ComputeID] = inst
	return nil
}
