package local

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// procArgs is the command line of pid; empty for a zombie.
func procArgs(pid int) ([]string, error) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return nil, err
	}
	raw = bytes.TrimRight(raw, "\x00")
	if len(raw) == 0 {
		return nil, nil
	}
	return strings.Split(string(raw), "\x00"), nil
}

// isAgent tells whether pid is the agent started with configPath and leads
// its own process group: a pid file can outlive its process and the pid be
// reused by anything.
func isAgent(pid int, configPath string) bool {
	args, err := procArgs(pid)
	if err != nil || !hasConfigArg(args, configPath) {
		return false
	}
	pgid, err := syscall.Getpgid(pid)
	return err == nil && pgid == pid
}

// agentsOf lists the processes started with configPath (an agent whose pid
// was never written: the controller stopped between start and pid file).
func agentsOf(configPath string) []int {
	return scanProcs(func(pid int, args []string) bool { return hasConfigArg(args, configPath) && isAgent(pid, configPath) })
}

// leftoversOf lists the processes of group pgid whose command line mentions
// dir: what remains of an amphora whose agent died while no controller
// watched it. Matching on dir keeps a reused group id from being killed.
func leftoversOf(pgid int, dir string) []int {
	return scanProcs(func(pid int, args []string) bool {
		if g, err := syscall.Getpgid(pid); err != nil || g != pgid {
			return false
		}
		return strings.Contains(strings.Join(args, " "), dir)
	})
}

func scanProcs(match func(pid int, args []string) bool) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if args, err := procArgs(pid); err == nil && len(args) > 0 && match(pid, args) {
			out = append(out, pid)
		}
	}
	return out
}
