//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package projections

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockReplay takes an exclusive lock on path (created if needed), so two
// replays of one read model never build the same generation. The kernel
// drops the lock when the process dies: a crashed replay leaves no stale
// lock behind.
func lockReplay(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("projections: replay lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrReplayRunning
		}
		return nil, fmt.Errorf("projections: replay lock: %w", err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}
