package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// haproxyBin is the HAProxy executable the agent runs.
type haproxyBin struct {
	path    string
	version string // e.g. "2.6.12-1+deb12u4", the Debian package version
}

// ErrHAProxyMissing: the haproxy executable is not installed.
var ErrHAProxyMissing = errors.New("haproxy is not installed: install it with `apt-get install haproxy` (Debian/Ubuntu), or run the noop drivers")

func findHAProxy(ctx context.Context, name string) (*haproxyBin, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return nil, fmt.Errorf("%w (looked for %q: %v)", ErrHAProxyMissing, name, err)
	}
	out, err := exec.CommandContext(ctx, path, "-v").Output()
	if err != nil {
		return nil, fmt.Errorf("%s -v: %w", path, err)
	}
	return &haproxyBin{path: path, version: parseVersion(out)}, nil
}

// parseVersion reads "HAProxy version 2.6.12-1+deb12u4 2026/10/17 - ..."
// (also "HA-Proxy version ..." of older releases).
func parseVersion(out []byte) string {
	line, _, _ := bytes.Cut(out, []byte("\n"))
	f := strings.Fields(string(line))
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "version" {
			return f[i+1]
		}
	}
	return strings.TrimSpace(string(line))
}

// check validates a configuration as `haproxy -c -f`, returning HAProxy's
// own messages when it is invalid.
func (h *haproxyBin) check(ctx context.Context, dir, cfgPath string) error {
	cmd := exec.CommandContext(ctx, h.path, "-c", "-f", cfgPath)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		msg := withoutNotices(out)
		if msg == "" {
			msg = err.Error()
		}
		return &invalidConfigError{details: msg}
	}
	return nil
}

// invalidConfigError is HAProxy's verdict on an uploaded configuration.
type invalidConfigError struct{ details string }

func (e *invalidConfigError) Error() string { return "invalid haproxy configuration: " + e.details }

// withoutNotices drops HAProxy's [NOTICE] lines (version, path), keeping
// the alerts and warnings that explain a failure.
func withoutNotices(out []byte) string {
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "[NOTICE]") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
