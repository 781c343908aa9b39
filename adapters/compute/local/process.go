package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"time"
)

// killWait bounds the wait for a process after SIGKILL.
const killWait = 5 * time.Second

// process is an agent process, the leader of its own process group: the
// group is the amphora (the agent and the HAProxy processes it runs).
type process struct {
	pid  int
	done chan struct{} // closed once the agent has exited

	// Set before done is closed.
	exit  string // "exit status 1", "signal: killed", ...
	clean bool   // exited with status 0

	expected atomic.Bool // a stop was asked: the exit is not a crash
}

// exited reports whether the agent has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// startProcess starts exe with args in dir, in a new process group (so a
// Ctrl-C of the controller does not reach it, and the whole amphora can be
// signalled at once), writing its output to logPath. It is not tied to any
// context: amphorae outlive the call that booted them, and the controller.
// onExit runs once the agent has exited and what remained of its group was
// killed.
func startProcess(exe string, args []string, dir, logPath string, onExit func(*process)) (*process, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		p.exit, p.clean = "exited", err == nil
		if cmd.ProcessState != nil {
			p.exit = cmd.ProcessState.String()
		} else if err != nil {
			p.exit = err.Error()
		}
		p.finish(onExit)
	}()
	return p, nil
}

// adoptProcess watches an agent started by an earlier controller. Not being
// its parent, it polls (the pidfd behind os.FindProcess makes the check
// immune to pid reuse once adopted). The watch ends with stop.
func adoptProcess(pid int, configPath string, poll time.Duration, stop <-chan struct{}, onExit func(*process)) (*process, error) {
	if pid <= 0 || !isAgent(pid, configPath) {
		return nil, fmt.Errorf("pid %d is not the agent of %s", pid, configPath)
	}
	proc, err := os.FindProcess(pid)
	if err != nil {
		return nil, err
	}
	p := &process{pid: pid, done: make(chan struct{})}
	go func() {
		defer proc.Release()
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			if proc.Signal(syscall.Signal(0)) != nil || !isAgent(pid, configPath) {
				p.exit = "exited (status unknown: started by an earlier controller)"
				p.finish(onExit)
				return
			}
		}
	}()
	return p, nil
}

// deadProcess stands for an agent found dead at start-up.
func deadProcess(pid int, why string) *process {
	p := &process{pid: pid, done: make(chan struct{}), exit: why}
	close(p.done)
	return p
}

// finish kills what remains of the group (children of a crashed agent:
// the amphora fails as a whole, as a VM would, and nothing stale keeps
// serving its VIP), then publishes the exit. The leader was just
// reaped or seen gone, so its group id cannot have been reused yet.
func (p *process) finish(onExit func(*process)) {
	_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	close(p.done)
	if onExit != nil {
		onExit(p)
	}
}

// stop ends the agent: SIGTERM to the group, up to grace (or ctx) for it to
// exit, then SIGKILL. Stopping an exited agent is a no-op.
func (p *process) stop(ctx context.Context, grace time.Duration) error {
	p.expected.Store(true)
	if p.exited() {
		return nil
	}
	if err := signalGroup(p.pid, syscall.SIGTERM); err != nil {
		return err
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	if err := signalGroup(p.pid, syscall.SIGKILL); err != nil {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(killWait):
		return fmt.Errorf("agent pid %d still running %s after SIGKILL", p.pid, killWait)
	}
}

func signalGroup(pgid int, sig syscall.Signal) error {
	if err := syscall.Kill(-pgid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal %s to process group %d: %w", sig, pgid, err)
	}
	return nil
}
