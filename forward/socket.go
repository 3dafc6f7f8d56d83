package forward

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// maxSocketPath is the longest Unix socket path every platform rhizome runs on can bind:
// sun_path holds 104 bytes on macOS (108 on Linux), the terminating NUL included.
const maxSocketPath = 103

// listenUnix binds a forward's private socket in dir (made 0700 if missing), named after the
// forward; a name too long for a socket path, or taken by another forward of the same name,
// is replaced by a hash of id.
func listenUnix(dir, name, id string) (net.Listener, string, error) {
	if err := privateDir(dir); err != nil {
		return nil, "", err
	}
	var lastErr error
	for _, base := range []string{socketName(name), "f-" + shortHash(id)} {
		path := filepath.Join(dir, base+".sock")
		if len(path) > maxSocketPath {
			lastErr = fmt.Errorf("the socket path %s is %d bytes, more than the %d a Unix socket may have: set XDG_RUNTIME_DIR to a shorter directory", path, len(path), maxSocketPath)
			continue
		}
		l, err := net.Listen("unix", path)
		if err != nil {
			lastErr = fmt.Errorf("binding %s: %w", path, err)
			continue
		}
		// The directory already keeps others out; the mode says so to anyone who looks.
		if err := os.Chmod(path, 0o600); err != nil {
			l.Close()
			return nil, "", fmt.Errorf("making %s private: %w", path, err)
		}
		return l, path, nil
	}
	return nil, "", lastErr
}

// privateDir makes sure dir is a directory of ours that no one else may enter.
func privateDir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("making the forwards' socket directory: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("checking the forwards' socket directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory (a symlink or a file?): remove it and ask again", dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%s belongs to uid %d, not to you: remove it and ask again", dir, st.Uid)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%s is open to other users (mode %04o): chmod 700 %s", dir, perm, dir)
	}
	return nil
}

// removeStaleSockets deletes the sockets a killed agent left in dir. Only the agent holding
// the agent lock may call it: no live forward can be using them then.
func removeStaleSockets(dir string) {
	if privateDir(dir) != nil {
		return // not ours to clean; opening a forward's socket will say why
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.Type()&fs.ModeSocket != 0 {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// socketName turns a forward's name (na-prod/bookkeeper) into a file name (na-prod-bookkeeper).
func socketName(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '-'
	}, name)
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}
