//go:build !linux

package agent

import (
	"context"
	"net"
)

// dialLong: without /proc, a path longer than sun_path cannot be dialled
// without a chdir; the dial reports the kernel's error.
func dialLong(ctx context.Context, d *net.Dialer, path string) (net.Conn, error) {
	return d.DialContext(ctx, "unix", path)
}
