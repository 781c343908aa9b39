package agent

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
)

// dialLong opens the socket's directory and connects through
// /proc/self/fd/<fd>/<name>: the kernel resolves the magic link to the open
// directory, so the name given to connect(2) is short whatever the real
// path. Unlike a chdir this is safe in a multi-threaded process.
func dialLong(ctx context.Context, d *net.Dialer, path string) (net.Conn, error) {
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", path, err)
	}
	defer dir.Close()
	short := fmt.Sprintf("/proc/self/fd/%d/%s", dir.Fd(), filepath.Base(path))
	if len(short) > maxSunPath {
		return nil, fmt.Errorf("dial %s: socket name %q too long", path, filepath.Base(path))
	}
	conn, err := d.DialContext(ctx, "unix", short)
	runtime.KeepAlive(dir) // the descriptor must stay open until connect(2) returns
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", path, err)
	}
	return conn, nil
}
