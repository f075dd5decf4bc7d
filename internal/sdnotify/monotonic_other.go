//go:build !linux

package sdnotify

// monotonicUsec has nothing to report where there is no systemd to compare it with.
func monotonicUsec() (uint64, bool) { return 0, false }
