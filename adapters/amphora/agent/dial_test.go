package agent

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

func TestSocketPath(t *testing.T) {
	dir := "/srv/amp/lb1"
	for _, tc := range []struct {
		addr, want string
		ok         bool
	}{
		{"unix@haproxy.sock", "/srv/amp/lb1/haproxy.sock", true},
		{"unix@run/h.sock", "/srv/amp/lb1/run/h.sock", true},
		{"/var/run/h.sock", "/var/run/h.sock", true},
		{"unix@/var/run/h.sock", "/var/run/h.sock", true},
		{"/var/run/../run/h.sock", "/var/run/h.sock", true},
		{"haproxy.sock", "", false}, // HAProxy reads host:port
		{"127.0.0.1:9000", "", false},
		{"abns@haproxy", "", false},
		{"unix@", "", false},
		{"", "", false},
	} {
		got, ok := socketPath(dir, tc.addr)
		if got != tc.want || ok != tc.ok {
			t.Errorf("socketPath(%q) = %q, %v; want %q, %v", tc.addr, got, ok, tc.want, tc.ok)
		}
	}
	sock, state := parsedConfig{statsSocket: ConfigPaths().StatsSocket, stateFile: ConfigPaths().StateFile}.files(dir)
	if want := LBPaths("/srv/amp", "lb1"); sock != want.StatsSocket || state != want.StateFile {
		t.Errorf("ConfigPaths resolved in %s = %q, %q; want the LBPaths %q, %q", dir, sock, state, want.StatsSocket, want.StateFile)
	}
	if got := relativeTo(dir, "/srv/amp/lb1/master.sock"); got != "master.sock" {
		t.Errorf("relativeTo inside = %q", got)
	}
	if got := relativeTo(dir, "/elsewhere/master.sock"); got != "/elsewhere/master.sock" {
		t.Errorf("relativeTo outside = %q", got)
	}
}

// TestDialUnixLongPath: a socket whose absolute path is beyond sun_path is
// still reached (Linux: through /proc/self/fd), and a short one directly.
func TestDialUnixLongPath(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("long unix socket paths are dialled through /proc/self/fd (Linux)")
	}
	deep := deepTempDir(t)
	for _, dir := range []string{deep, filepath.Dir(filepath.Dir(filepath.Dir(deep)))} {
		path := filepath.Join(dir, "x.sock")
		// Listen the way HAProxy does: relative to the working directory
		// would need a chdir here, so listen through the same /proc trick.
		ln := listenUnix(t, path)
		done := make(chan string, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				done <- err.Error()
				return
			}
			defer c.Close()
			b, _ := io.ReadAll(c)
			done <- string(b)
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := dialUnix(ctx, path)
		cancel()
		if err != nil {
			t.Fatalf("dialUnix(%d-byte path): %v", len(path), err)
		}
		_, _ = io.WriteString(conn, "hello")
		conn.Close()
		if got := <-done; got != "hello" {
			t.Fatalf("server read %q", got)
		}
		ln.Close()
	}
	if _, err := dialUnix(context.Background(), filepath.Join(deep, "missing.sock")); err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("dial of a missing long path: %v, want a not-exist error", err)
	}
}

func listenUnix(t *testing.T, path string) net.Listener {
	t.Helper()
	target := path
	if len(path) > maxSunPath {
		dir, err := os.Open(filepath.Dir(path))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { dir.Close() })
		target = "/proc/self/fd/" + strconv.Itoa(int(dir.Fd())) + "/" + filepath.Base(path)
	}
	ln, err := net.Listen("unix", target)
	if err != nil {
		t.Fatalf("listen %s: %v", path, err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("socket not at %s: %v", path, err)
	}
	return ln
}
