package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Paths are the files of one load balancer, all in <base_dir>/<lb id>/ (as
// Octavia's [haproxy_amphora] base_path layout). The controller renders the
// configuration with StatsSocket and StateFile (it learns base_dir from
// GET /1.0/info); the agent reads them back from the configuration it runs.
type Paths struct {
	Dir          string
	Config       string // haproxy.cfg, as uploaded
	StatsSocket  string // haproxy.sock: stats socket, level admin, expose-fd listeners
	StateFile    string // servers-state: "show servers state" dumped before a reload
	MasterSocket string // master.sock: the master CLI (-S)
	PIDFile      string // haproxy.pid: the master's pid (-p)
	Version      string // version: the amphora.Config version of Config
}

// LBPaths are the paths of load balancer lbID under baseDir.
func LBPaths(baseDir, lbID string) Paths {
	dir := filepath.Join(baseDir, lbID)
	return Paths{
		Dir:          dir,
		Config:       filepath.Join(dir, "haproxy.cfg"),
		StatsSocket:  filepath.Join(dir, "haproxy.sock"),
		StateFile:    filepath.Join(dir, "servers-state"),
		MasterSocket: filepath.Join(dir, "master.sock"),
		PIDFile:      filepath.Join(dir, "haproxy.pid"),
		Version:      filepath.Join(dir, "version"),
	}
}

// PingWrapperPath is the external-check script of PING health monitors the
// agent installs in base_dir (the renderer's Options.PingCommand).
func PingWrapperPath(baseDir string) string { return filepath.Join(baseDir, "ping-wrapper.sh") }

// validID keeps ids usable as one path component (no "..", no separator).
var validID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)

func readVersion(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return 0, nil
		}
		return 0, err
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("version file %s: %w", path, err)
	}
	return v, nil
}

// writeFileAtomic writes through a temporary file and a rename, so HAProxy
// (re)loading and the agent restarting never read half a file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // no-op after the rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
