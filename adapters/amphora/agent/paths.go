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
// Octavia's [haproxy_amphora] base_path layout).
//
// HAProxy runs with that directory as its working directory, and the
// controller renders the sockets and the state file into the configuration
// relative to it (ConfigPaths): a unix socket path holds at most 107 bytes
// (HAProxy accepts 97, keeping room for its ".<pid>.tmp" bind suffix), so
// absolute paths under a deep base_dir would be refused. The agent reads
// them back from the configuration it runs and reaches the sockets however
// long their absolute path is (see dialUnix).
type Paths struct {
	Dir          string
	Config       string // haproxy.cfg, as uploaded
	StatsSocket  string // haproxy.sock: stats socket, level admin, expose-fd listeners
	StateFile    string // servers-state: "show servers state" dumped before a reload
	MasterSocket string // master.sock: the master CLI (-S)
	PIDFile      string // haproxy.pid: the master's pid (-p)
	Version      string // version: the amphora.Config version of Config
}

// Names of a load balancer's files in its directory.
const (
	configName       = "haproxy.cfg"
	statsSocketName  = "haproxy.sock"
	stateFileName    = "servers-state"
	masterSocketName = "master.sock"
	pidFileName      = "haproxy.pid"
	versionName      = "version"
)

// LBPaths are the absolute paths of load balancer lbID under baseDir.
func LBPaths(baseDir, lbID string) Paths {
	dir := filepath.Join(baseDir, lbID)
	return Paths{
		Dir:          dir,
		Config:       filepath.Join(dir, configName),
		StatsSocket:  filepath.Join(dir, statsSocketName),
		StateFile:    filepath.Join(dir, stateFileName),
		MasterSocket: filepath.Join(dir, masterSocketName),
		PIDFile:      filepath.Join(dir, pidFileName),
		Version:      filepath.Join(dir, versionName),
	}
}

// ConfigPaths are the paths as the controller writes them into a load
// balancer's configuration: relative to the directory HAProxy runs in, so
// the same configuration works on any amphora whatever its base_dir.
// StatsSocket is a HAProxy address ("unix@" makes a relative path a unix
// socket; HAProxy would read a bare name as host:port).
func ConfigPaths() Paths {
	return Paths{
		Config:       configName,
		StatsSocket:  "unix@" + statsSocketName,
		StateFile:    stateFileName,
		MasterSocket: masterSocketName,
		PIDFile:      pidFileName,
		Version:      versionName,
	}
}

// socketPath turns a HAProxy unix socket address of a configuration
// running in dir ("/abs/path", "unix@rel/path", "rel" is not one) into an
// absolute path; ok is false for any other kind of address (TCP,
// abstract namespace: not a file the agent can protect with 0700).
func socketPath(dir, addr string) (string, bool) {
	p, prefixed := strings.CutPrefix(addr, "unix@")
	switch {
	case p == "":
		return "", false
	case filepath.IsAbs(p):
		return filepath.Clean(p), true
	case prefixed:
		return filepath.Join(dir, p), true
	}
	return "", false
}

// filePath resolves a path of a configuration running in dir (HAProxy
// reads relative paths from its working directory).
func filePath(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
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
