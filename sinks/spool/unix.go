package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// What the spool needs from the operating system beyond files: an exclusive lock on the folder
// and the free space of its filesystem.

const lockName = "lock"

// lockDir takes an exclusive lock on the spool folder, held until the returned file is closed:
// two processes appending to one spool would interleave their records.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("spool: %s is in use by another spool (another gateway running?)", dir)
		}
		return nil, fmt.Errorf("spool: locking %s: %w", dir, err)
	}
	return f, nil
}

// freeBytes is the space an unprivileged process may still use on dir's filesystem.
func freeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
