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
	"sync"
	"syscall"

	"github.com/rhizome-dev/rhizome/env"
)

// maxSocketPath is the longest Unix socket path every platform rhizome runs on can bind:
// sun_path holds 104 bytes on macOS (108 on Linux), the terminating NUL included.
const maxSocketPath = 103

// listenUnix binds the private socket of a forward of engine eng on local port port, in dir
// (made 0700 if missing), where the engine's clients look for it (env.Engine.SocketPath): the
// file DIR/NAME.sock, or for PostgreSQL DIR/NAME/.s.PGSQL.PORT in a 0700 directory of the
// forward's own. NAME is the forward's name; one too long for a socket path, or taken by
// another forward of the same name, is replaced by a hash of id. Closing the listener removes
// the socket and the forward's own directory.
func listenUnix(dir string, eng env.Engine, name, id string, port int) (net.Listener, string, error) {
	if err := privateDir(dir); err != nil {
		return nil, "", err
	}
	var lastErr error
	for _, base := range []string{socketName(name), "f-" + shortHash(id)} {
		if base == "" {
			continue
		}
		path := eng.SocketPath(dir, base, port)
		if len(path) > maxSocketPath {
			lastErr = fmt.Errorf("the socket path %s is %d bytes, more than the %d a Unix socket may have: set XDG_RUNTIME_DIR to a shorter directory", path, len(path), maxSocketPath)
			continue
		}
		l, err := bindSocket(dir, path)
		if err != nil {
			lastErr = err
			continue
		}
		return l, path, nil
	}
	return nil, "", lastErr
}

// bindSocket listens on path, mode 0600, first making its directory when that is not dir
// itself but a directory of the socket's own.
func bindSocket(dir, path string) (net.Listener, error) {
	own := filepath.Dir(path)
	if own == filepath.Clean(dir) {
		own = ""
	} else if err := freshDir(own); err != nil {
		return nil, err
	}
	l, err := net.Listen("unix", path)
	if err == nil {
		// The directory already keeps others out; the mode says so to anyone who looks.
		if err = os.Chmod(path, 0o600); err != nil {
			l.Close()
			err = fmt.Errorf("making %s private: %w", path, err)
		}
	} else {
		err = fmt.Errorf("binding %s: %w", path, err)
	}
	switch {
	case err != nil && own != "":
		_ = os.Remove(own)
		return nil, err
	case err != nil:
		return nil, err
	case own != "":
		return &dirListener{Listener: l, dir: own}, nil
	}
	return l, nil
}

// freshDir makes the 0700 directory of one forward's socket. An empty one of that name is a
// leftover and is taken over; one with anything in it belongs to a live forward.
func freshDir(own string) error {
	err := os.Mkdir(own, 0o700)
	if errors.Is(err, fs.ErrExist) && os.Remove(own) == nil {
		err = os.Mkdir(own, 0o700)
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("making %s: another forward's socket is there", own)
	}
	if err != nil {
		return fmt.Errorf("making the socket's directory: %w", err)
	}
	return nil
}

// dirListener is a socket alone in a directory of its own, which goes with it on Close.
type dirListener struct {
	net.Listener
	dir  string
	once sync.Once
}

func (l *dirListener) Close() error {
	err := l.Listener.Close() // a *net.UnixListener removes its socket file
	l.once.Do(func() { _ = os.Remove(l.dir) })
	return err
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

// removeStaleSockets deletes the sockets a killed agent left in dir, and the directories of
// their own that it leaves empty. Only the agent holding the agent lock may call it: no live
// forward can be using them then.
func removeStaleSockets(dir string) {
	if privateDir(dir) != nil {
		return // not ours to clean; opening a forward's socket will say why
	}
	for _, e := range removeSocketsIn(dir) {
		if e.IsDir() { // not a symlink: ReadDir does not follow them
			own := filepath.Join(dir, e.Name())
			removeSocketsIn(own)
			_ = os.Remove(own) // only when nothing but sockets was in it
		}
	}
}

// removeSocketsIn removes the sockets in dir and returns what else is there.
func removeSocketsIn(dir string) []fs.DirEntry {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var rest []fs.DirEntry
	for _, e := range entries {
		if e.Type()&fs.ModeSocket != 0 {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		} else {
			rest = append(rest, e)
		}
	}
	return rest
}

// socketName turns a forward's name (na-prod/bookkeeper) into a file name (na-prod-bookkeeper);
// "" for a name that would make only dots (".", ".."), which name no file of its own.
func socketName(name string) string {
	if strings.Trim(name, ".") == "" {
		return ""
	}
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
