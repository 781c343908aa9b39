package agent

import (
	"context"
	"net"
)

// maxSunPath is the longest unix socket path connect(2) takes: sun_path
// holds 108 bytes on Linux, the last one the terminating NUL.
const maxSunPath = 107

// dialUnix connects to the unix socket at path whatever its length. A path
// that fits is dialled as is; a longer one through a descriptor of its
// directory (dialLong), so a deep base_dir (a test's temp dir, a long
// data_dir) never makes the agent lose its HAProxy sockets. This was chosen
// over a short private runtime directory (e.g. /tmp/oes-XXXX) because the
// sockets then stay with the load balancer's other files, need no second
// directory to create, protect, adopt after a restart and clean up, and
// the configuration stays independent of where the amphora keeps them.
func dialUnix(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	if len(path) <= maxSunPath {
		return d.DialContext(ctx, "unix", path)
	}
	return dialLong(ctx, &d, path)
}
