package release

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"hearth/internal/filelock"
)

// lock takes the repository lock (tuf/.lock): exclusive for a change, shared for a
// consistent read. flock locks belong to the open file, so the lock excludes other
// goroutines of this process as well as other processes (the CLI against serve). The
// returned function releases it.
func lock(vendorDir string, exclusive bool) (func(), error) {
	if _, err := os.Stat(filepath.Join(vendorDir, "tuf")); errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotInitialised
	}
	unlock, err := filelock.Lock(filepath.Join(vendorDir, lockFile), exclusive)
	if err != nil {
		return nil, fmt.Errorf("lock tuf repository: %w", err)
	}
	return unlock, nil
}
