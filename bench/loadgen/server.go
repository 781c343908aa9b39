package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Server is an octavia-es process started for the run, listening on a free
// loopback port with a fresh data directory.
type Server struct {
	URL     string
	DataDir string
	cmd     *exec.Cmd
	done    chan error
	once    sync.Once
}

// StartServer runs `bin serve --config config --listen 127.0.0.1:<free>
// --data-dir <temp>` with its output in logFile, and waits until GET /
// answers 200 (or ready passes).
func StartServer(ctx context.Context, bin, config string, logFile io.Writer, ready time.Duration) (*Server, error) {
	// The API figures run on the noop drivers: 10,000 load balancers must not
	// start 10,000 amphorae (the amphora figures start their own server).
	return startServer(ctx, bin, config, logFile, ready,
		"OCTAVIA_ES_DRIVERS_COMPUTE=noop", "OCTAVIA_ES_DRIVERS_NETWORK=noop", "OCTAVIA_ES_DRIVERS_AMPHORA=noop")
}

// startServer is StartServer with env (KEY=VALUE) added to the server's.
func startServer(ctx context.Context, bin, config string, logFile io.Writer, ready time.Duration, env ...string) (*Server, error) {
	return startProcess(ctx, bin, "serve", config, logFile, ready, env...)
}

// startProcess is startServer for another command that serves the API
// (serve, api), on a port and data directory of its own.
func startProcess(ctx context.Context, bin, command, config string, logFile io.Writer, ready time.Duration, env ...string) (*Server, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "octavia-es-bench-")
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	cmd := exec.Command(bin, command, "--config", config, "--listen", addr, "--data-dir", dir)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Explicit env too, in case a flag is not wired: the address stays loopback.
	cmd.Env = append(os.Environ(), "OCTAVIA_ES_API_LISTEN="+addr, "OCTAVIA_ES_DATA_DIR="+dir)
	cmd.Env = append(cmd.Env, env...)
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &Server{URL: "http://" + addr, DataDir: dir, cmd: cmd, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	if err := s.waitReady(ctx, ready); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case err := <-s.done:
			s.done <- err // Stop reads it again
			return fmt.Errorf("server exited before it was ready: %v (see the server log)", err)
		default:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/", nil)
		if err != nil {
			return fmt.Errorf("ready probe: %w", err)
		}
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server at %s not ready after %s", s.URL, within)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// DataBytes is the size of the data directory (event store + read models).
func (s *Server) DataBytes() int64 {
	var total int64
	_ = filepath.WalkDir(s.DataDir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if info, err := e.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil // a file vanishing mid-walk only makes the figure approximate
	})
	return total
}

// Stop asks the server to shut down (SIGTERM), kills it after 10 s, and
// removes its data directory.
func (s *Server) Stop() {
	s.terminate()
	_ = os.RemoveAll(s.DataDir)
}

// terminate stops the process and keeps the data directory; once.
func (s *Server) terminate() { s.once.Do(s.signalAndWait) }

func (s *Server) signalAndWait() {
	if s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// freeLoopbackAddr asks the kernel for a free port on 127.0.0.1.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	return addr, nil
}
