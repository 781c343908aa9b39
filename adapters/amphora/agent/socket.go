package agent

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// maxAnswer bounds what the agent reads from a HAProxy socket.
const maxAnswer = 16 << 20

// cliCommand sends one command to a HAProxy CLI socket (stats socket or
// master CLI) in non-interactive mode and returns the whole answer: HAProxy
// closes the connection after it.
func cliCommand(ctx context.Context, path, command string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := dialUnix(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("haproxy socket: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if _, err := io.WriteString(conn, command+"\n"); err != nil {
		return nil, fmt.Errorf("haproxy socket %q: %w", command, err)
	}
	// The master CLI answers once it sees the end of the input.
	if uc, ok := conn.(*net.UnixConn); ok {
		_ = uc.CloseWrite()
	}
	out, err := io.ReadAll(io.LimitReader(conn, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("haproxy socket %q: %w", command, err)
	}
	return out, nil
}

// masterCommand is cliCommand on the master CLI, retried while nothing
// listens: the master re-executes itself after loading (to "wait mode",
// freeing the configuration) and on reloads, and its CLI is down meanwhile.
// A command that could not connect was not sent, so retrying is safe.
func masterCommand(ctx context.Context, path, command string) ([]byte, error) {
	for {
		out, err := cliCommand(ctx, path, command)
		if err == nil || !(errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT)) {
			return out, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(pollInterval):
		}
	}
}

// cliSession is an interactive ("prompt") session on a stats socket: it
// stays with the worker that accepted it, even once a reload has replaced
// that worker, and keeps it alive until closed.
type cliSession struct {
	conn net.Conn
	r    *bufio.Reader
}

const cliPrompt = "\n> "

func openCLISession(ctx context.Context, path string) (*cliSession, error) {
	conn, err := dialUnix(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("haproxy socket: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	s := &cliSession{conn: conn, r: bufio.NewReader(conn)}
	if _, err := s.command("prompt"); err != nil {
		conn.Close()
		return nil, err
	}
	return s, nil
}

// command sends one command and returns its output, up to the prompt.
func (s *cliSession) command(c string) ([]byte, error) {
	if _, err := io.WriteString(s.conn, c+"\n"); err != nil {
		return nil, fmt.Errorf("haproxy socket %q: %w", c, err)
	}
	var out []byte
	for !bytes.HasSuffix(out, []byte(cliPrompt)) && string(out) != "> " {
		chunk := make([]byte, 32<<10)
		n, err := s.r.Read(chunk)
		out = append(out, chunk[:n]...)
		if err != nil {
			return nil, fmt.Errorf("haproxy socket %q: %w", c, err)
		}
		if len(out) > maxAnswer {
			return nil, fmt.Errorf("haproxy socket %q: answer larger than %d bytes", c, maxAnswer)
		}
	}
	return bytes.TrimSuffix(bytes.TrimSuffix(out, []byte("> ")), []byte("\n")), nil
}

// close ends the session ("quit"), letting a replaced worker exit.
func (s *cliSession) close() {
	_, _ = io.WriteString(s.conn, "quit\n")
	_ = s.conn.Close()
}

// procStatus is the master CLI's "show proc":
//
//	#<PID>          <type>          <reloads>       <uptime>        <version>
//	27552           master          1 [failed: 0]   0d00h00m02s     2.6.12-1+deb12u4
//	# workers
//	27615           worker          0               0d00h00m01s     2.6.12-1+deb12u4
type procStatus struct {
	reloads, failed int
	workers         []workerProc
}

type workerProc struct{ pid, reloads int }

var (
	masterLine = regexp.MustCompile(`^\d+\s+master\s+(\d+)\s+\[failed:\s*(\d+)\]`)
	workerLine = regexp.MustCompile(`^(\d+)\s+worker\s+(\d+)`)
)

func parseShowProc(b []byte) (procStatus, bool) {
	var ps procStatus
	found := false
	for _, l := range strings.Split(string(b), "\n") {
		if m := masterLine.FindStringSubmatch(l); m != nil {
			ps.reloads, _ = strconv.Atoi(m[1])
			ps.failed, _ = strconv.Atoi(m[2])
			found = true
		} else if m := workerLine.FindStringSubmatch(l); m != nil {
			pid, _ := strconv.Atoi(m[1])
			n, _ := strconv.Atoi(m[2])
			ps.workers = append(ps.workers, workerProc{pid: pid, reloads: n})
		}
	}
	return ps, found
}

// currentWorker is the pid of the worker of the latest (re)load, 0 if none:
// older workers still finishing their connections count their reloads.
func (ps procStatus) currentWorker() int {
	for _, w := range ps.workers {
		if w.reloads == 0 {
			return w.pid
		}
	}
	return 0
}

// outputLog passes HAProxy's output to the agent's log (alerts as
// warnings, the rest at debug level) and keeps its last lines for errors.
type outputLog struct {
	log *slog.Logger
	eof chan struct{} // closed when every writer has closed the pipe

	mu    sync.Mutex
	lines []string
}

const outputTail = 20

func newOutputLog(log *slog.Logger) *outputLog {
	return &outputLog{log: log, eof: make(chan struct{})}
}

func (o *outputLog) consume(r io.ReadCloser) {
	defer close(o.eof)
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 64*1024)
	for sc.Scan() {
		l := sc.Text()
		if strings.Contains(l, "[ALERT]") {
			o.log.Warn("haproxy", "output", l)
		} else {
			o.log.Debug("haproxy", "output", l)
		}
		if strings.Contains(l, "[NOTICE]") {
			continue // version banners: not worth keeping for an error message
		}
		o.mu.Lock()
		o.lines = append(o.lines, l)
		if len(o.lines) > outputTail {
			o.lines = o.lines[len(o.lines)-outputTail:]
		}
		o.mu.Unlock()
	}
}

// tail returns the last lines, after giving the reader a moment to catch
// up with what HAProxy wrote just before the caller noticed a failure.
func (o *outputLog) tail() string {
	select {
	case <-o.eof:
	case <-time.After(100 * time.Millisecond):
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(o.lines, "\n")
}
