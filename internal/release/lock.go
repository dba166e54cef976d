package release

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// lock takes the repository lock (tuf/.lock): exclusive for a change, shared for a
// consistent read. flock locks belong to the open file, so the lock excludes other
// goroutines of this process as well as other processes (the CLI against serve). The
// returned function releases it.
func lock(vendorDir string, exclusive bool) (func(), error) {
	if _, err := os.Stat(filepath.Join(vendorDir, "tuf")); errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotInitialised
	}
	f, err := os.OpenFile(filepath.Join(vendorDir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock tuf repository: %w", err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock tuf repository: %w", err)
	}
	return func() { f.Close() }, nil
}
