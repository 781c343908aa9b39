//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package projections

import (
	"errors"
	"fmt"
	"os"
)

// lockReplay creates path exclusively. Without flock a replay that crashed
// leaves the file behind: remove it by hand once no replay runs.
func lockReplay(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil, ErrReplayRunning
	}
	if err != nil {
		return nil, fmt.Errorf("projections: replay lock: %w", err)
	}
	_ = f.Close()
	return func() { _ = os.Remove(path) }, nil
}
