package haproxy

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/octavia-es/octavia-es/adapters/amphora"
)

func TestMaxConnForFileLimit(t *testing.T) {
	for _, tc := range []struct {
		limit uint64
		want  int
	}{
		{0, 1},
		{256, 1},
		{1024, 286},
		{20000, 7497},
		{1 << 20, 398356},
		{1 << 40, MaxConnLimit},
	} {
		if got := MaxConnForFileLimit(tc.limit); got != tc.want {
			t.Errorf("MaxConnForFileLimit(%d) = %d, want %d", tc.limit, got, tc.want)
		}
	}
}

// HAProxy refuses to start when its file limit is below what maxconn needs
// ("Cannot raise FD limit"): with MaxConnForFileLimit it starts, with
// three listeners (a default limit of 50000 each) and splicing on.
func TestMaxConnForFileLimitStartsHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts HAProxy")
	}
	bin := haproxyBinary(t)
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit (util-linux) not installed")
	}
	cfg := simple()
	cfg.Listeners = append(cfg.Listeners, listener(2, "HTTP", freePort(t)), listener(3, "TCP", freePort(t)))
	cfg.Listeners[0].ProtocolPort = freePort(t)
	// Without the cap the same configuration needs more than 1024 files.
	if out, started := runLimited(t, prlimit, bin, cfg, 1024, 0); started || !strings.Contains(out, "FD limit") {
		t.Fatalf("uncapped maxconn under a 1024-file limit: started=%v, want HAProxy's FD limit alert:\n%s", started, out)
	}
	for _, limit := range []uint64{1024, 4096} {
		if out, started := runLimited(t, prlimit, bin, cfg, limit, MaxConnForFileLimit(limit)); !started {
			t.Fatalf("limit %d, maxconn %d: haproxy exited:\n%s", limit, MaxConnForFileLimit(limit), out)
		}
	}
}

// runLimited runs HAProxy (not master-worker: the process is HAProxy,
// which fails at once if its file limit is short) under a file limit and
// reports whether it still runs after a moment, with its output.
func runLimited(t *testing.T, prlimit, bin string, cfg amphora.Config, limit uint64, maxConn int) (string, bool) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "haproxy.cfg")
	writeRendered(t, path, cfg, Options{StatsSocket: filepath.Join(dir, "haproxy.sock"), MaxConn: maxConn, NbThread: 1})
	n := strconv.FormatUint(limit, 10)
	cmd := exec.Command(prlimit, "--nofile="+n+":"+n, bin, "-db", "-f", path)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
		return out.String(), false
	case <-time.After(700 * time.Millisecond):
	}
	_ = cmd.Process.Kill()
	<-done
	return out.String(), true
}
