// Package filelock takes advisory locks on files (flock), so offline tools and the
// running services that share a vendor directory take turns.
package filelock

import (
	"os"
	"syscall"
)

// Lock takes the lock on path (created if needed): exclusive for a change, shared for a
// consistent read. flock locks belong to the open file, so the lock excludes other
// goroutines of this process as well as other processes. The returned function
// releases it.
func Lock(path string, exclusive bool) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
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
		return nil, err
	}
	return func() { f.Close() }, nil
}
