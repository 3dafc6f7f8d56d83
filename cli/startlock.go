package cli

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// takeStartLock opens the start lock at path (never through a link, and only a file of ours)
// and locks it within timeout (see lockWithin). The starter that held it before may have
// removed it as it finished (releaseStartLock): a lock on a file no longer at path is let go
// and the new file locked instead.
func takeStartLock(path string, timeout time.Duration) (*os.File, error) {
	deadline := time.Now().Add(timeout)
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o600)
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("start lock %s is a symbolic link, not rhizome's: remove it, or choose another socket with -a", path)
		}
		if err != nil {
			return nil, fmt.Errorf("opening start lock: %w", err)
		}
		var st syscall.Stat_t
		if err := syscall.Fstat(int(f.Fd()), &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG || int(st.Uid) != os.Getuid() {
			f.Close()
			return nil, fmt.Errorf("start lock %s is not a file of yours (owner uid %d): remove it, or choose another socket with -a", path, st.Uid)
		}
		if err := lockWithin(f, time.Until(deadline)); err != nil {
			f.Close()
			return nil, err
		}
		if sameFile(f, path) {
			return f, nil
		}
		f.Close()
	}
}

// releaseStartLock removes the start lock, while still holding it and if it is still the file
// at its path, then lets it go: no start lock is left beside the socket.
func releaseStartLock(f *os.File) {
	if sameFile(f, f.Name()) {
		_ = os.Remove(f.Name())
	}
	f.Close()
}

// sameFile reports whether f is still the file at path.
func sameFile(f *os.File, path string) bool {
	var a, b syscall.Stat_t
	return syscall.Fstat(int(f.Fd()), &a) == nil && syscall.Lstat(path, &b) == nil && a.Dev == b.Dev && a.Ino == b.Ino
}
