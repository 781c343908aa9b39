package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Bounds of the process operations; a request never waits longer.
const (
	startTimeout  = 15 * time.Second
	reloadTimeout = 15 * time.Second
	stopTimeout   = 5 * time.Second
	pollInterval  = 10 * time.Millisecond
)

// master is one run of a load balancer's master-worker HAProxy
// (`haproxy -W -db -S master.sock -f haproxy.cfg -p haproxy.pid`), a child of
// the agent in its own process group. -db keeps the master in the
// foreground (a "daemon" line in the configuration is overridden) so the
// agent supervises it; the master CLI on master.sock reloads it and reports
// its workers.
type master struct {
	pid  int
	sock string
	out  *outputLog
	done chan struct{} // closed once the master has exited and been reaped
	err  error         // the exit status, set before done closes

	// Of the configuration the current workers run: the stats socket the
	// agent queries and the state file dumped before a reload.
	statsSocket, stateFile string
}

type masterSpec struct {
	bin, dir, cfgPath, masterSock, pidFile string
	cfg                                    parsedConfig
	log                                    *slog.Logger
}

// startMaster starts HAProxy and waits until its first worker is up; a
// HAProxy that exits first (bind failure, ...) is an error carrying its
// output.
func startMaster(s masterSpec) (*master, error) {
	_ = os.Remove(s.masterSock) // left by a HAProxy that was killed
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start haproxy: %w", err)
	}
	// The master CLI is bound relative to dir, as the configuration's
	// sockets are: its absolute path may be too long for a unix socket.
	cmd := exec.Command(s.bin, "-W", "-db", "-S", "unix@"+relativeTo(s.dir, s.masterSock), "-f", s.cfgPath, "-p", s.pidFile)
	cmd.Dir = s.dir
	// An *os.File rather than an io.Writer: Wait must not wait for the
	// workers (which inherit it) to close their end.
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = procAttr()
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("start haproxy: %w", err)
	}
	m := &master{pid: cmd.Process.Pid, sock: s.masterSock, out: newOutputLog(s.log), done: make(chan struct{})}
	m.statsSocket, m.stateFile = s.cfg.files(s.dir)
	go m.out.consume(r)
	go func() {
		m.err = cmd.Wait()
		close(m.done)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for {
		ps, err := m.showProc(ctx)
		if err == nil && ps.currentWorker() != 0 {
			return m, nil
		}
		select {
		case <-m.done:
			return nil, fmt.Errorf("haproxy exited at start (%v): %s", m.err, m.out.tail())
		case <-ctx.Done():
			m.stop()
			return nil, fmt.Errorf("haproxy did not start within %v: %s", startTimeout, m.out.tail())
		case <-time.After(pollInterval):
		}
	}
}

func (m *master) exited() bool {
	select {
	case <-m.done:
		return true
	default:
		return false
	}
}

// stop ends HAProxy now (SIGTERM to the whole group: the workers hard-stop,
// the master exits), then SIGKILL after stopTimeout. Signalling the group
// is safe while the master is unreaped: its pid (the group id) can't be
// reused before.
func (m *master) stop() {
	if m.exited() {
		return
	}
	_ = syscall.Kill(-m.pid, syscall.SIGTERM)
	select {
	case <-m.done:
		return
	case <-time.After(stopTimeout):
	}
	_ = syscall.Kill(-m.pid, syscall.SIGKILL)
	<-m.done
}

// reload has the master re-execute itself on the configuration now on
// disk. The new worker gets the listening sockets from the old one (HAProxy
// passes them over its socketpair, or the stats socket's "expose-fd
// listeners"), so no connection is refused; the old worker finishes its
// connections. A reload HAProxy reports as failed (the old worker keeps
// serving) is an error carrying HAProxy's output.
func (m *master) reload() error {
	ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
	defer cancel()
	out, err := masterCommand(ctx, m.sock, "show proc")
	if err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	before, err := parseProc(out)
	if err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	// The master closes the CLI connection when it re-executes: no answer.
	if _, err := masterCommand(ctx, m.sock, "reload"); errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("reload: %w", err)
	}
	for {
		ps, err := m.showProc(ctx)
		switch {
		case err != nil: // re-executing: the CLI is back in a moment
		case ps.failed > before.failed:
			return fmt.Errorf("haproxy refused the new configuration, the previous one still runs: %s", m.out.tail())
		case ps.reloads > before.reloads && ps.currentWorker() != 0:
			return nil
		}
		select {
		case <-m.done:
			return fmt.Errorf("haproxy exited during a reload (%v): %s", m.err, m.out.tail())
		case <-ctx.Done():
			return fmt.Errorf("haproxy reload did not finish within %v: %s", reloadTimeout, m.out.tail())
		case <-time.After(pollInterval):
		}
	}
}

// relativeTo is path relative to dir when it lies inside it, else path.
func relativeTo(dir, path string) string {
	if rel, err := filepath.Rel(dir, path); err == nil && filepath.IsLocal(rel) {
		return rel
	}
	return path
}

// showProc asks once; a CLI that is down (re-executing) is an error.
func (m *master) showProc(ctx context.Context) (procStatus, error) {
	out, err := cliCommand(ctx, m.sock, "show proc")
	if err != nil {
		return procStatus{}, err
	}
	return parseProc(out)
}

func parseProc(out []byte) (procStatus, error) {
	ps, ok := parseShowProc(out)
	if !ok {
		return procStatus{}, errors.New("unexpected \"show proc\" answer")
	}
	return ps, nil
}
