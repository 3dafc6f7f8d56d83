package door

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
	"github.com/rhizome-dev/rhizome/rpc/safesocket"
)

// MaxSocketPath is the longest Unix socket path every platform rhizome runs on can bind:
// sun_path holds 104 bytes on macOS (108 on Linux), the terminating NUL included.
const MaxSocketPath = 103

// listenUnix binds the private socket of a forward of engine eng on local port port, in dir
// (made 0700 if missing), where the engine's clients look for it (env.Engine.SocketPath): the
// file DIR/NAME.sock, or for PostgreSQL DIR/NAME/.s.PGSQL.PORT in a 0700 directory of the
// forward's own, which also answers as .s.PGSQL.5432 (psql -h DIR without -p). NAME is the
// forward's name; one too long for a socket path, or whose path is taken by another forward's
// socket or directory, is replaced by a hash of id. Closing the listener removes what it made
// and nothing else: the socket if it is still the one it bound, the directory if empty.
func listenUnix(dir string, eng env.Engine, name, id string, port int) (net.Listener, string, error) {
	if err := privateDir(dir); err != nil {
		return nil, "", err
	}
	var lastErr error
	for _, base := range []string{socketName(name), "f-" + ShortHash(id)} {
		if base == "" {
			continue
		}
		path := eng.SocketPath(dir, base, port)
		if len(path) > MaxSocketPath {
			lastErr = fmt.Errorf("the socket path %s is %d bytes, more than the %d a Unix socket may have: set XDG_RUNTIME_DIR to a shorter directory", path, len(path), MaxSocketPath)
			continue
		}
		l, err := bindSocket(dir, path, eng.SocketPath(dir, base, defaultPostgresPort))
		if err != nil {
			lastErr = err
			continue
		}
		return l, path, nil
	}
	return nil, "", lastErr
}

// defaultPostgresPort is the port libpq looks for in a socket directory when given none.
const defaultPostgresPort = 5432

// bindSocket listens on path, mode 0600, first making its directory when that is not dir
// itself but a directory of the socket's own. There, alias (another name for the socket in
// that directory) is made a second name of the same socket.
func bindSocket(dir, path, alias string) (net.Listener, error) {
	own := filepath.Dir(path)
	if own == filepath.Clean(dir) {
		own, alias = "", ""
	} else if err := freshDir(own); err != nil {
		return nil, err
	}
	if alias == path {
		alias = ""
	}
	sl, err := listenSocket(path)
	if err == nil && alias != "" {
		// A hard link is the same socket under a second name: a connect to either reaches it.
		if err = os.Link(path, alias); err != nil {
			sl.Close()
			err = fmt.Errorf("naming %s also %s: %w", path, filepath.Base(alias), err)
		}
	}
	switch {
	case err != nil && own != "":
		_ = syscall.Rmdir(own)
		return nil, err
	case err != nil:
		return nil, err
	}
	sl.dir, sl.alias = own, alias
	return sl, nil
}

// listenSocket binds path with mode 0600 and remembers which file it made.
func listenSocket(path string) (*socketListener, error) {
	old := syscall.Umask(0o177) // the directory keeps others out; the mode says so too
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("binding %s: %w", path, err)
	}
	l.SetUnlinkOnClose(false) // Close removes the file only if it is still ours
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		l.Close()
		return nil, fmt.Errorf("checking %s: %w", path, err)
	}
	return &socketListener{UnixListener: l, path: path, dev: uint64(st.Dev), ino: uint64(st.Ino)}, nil
}

// freshDir makes the 0700 directory of one forward's socket. An empty directory of that name
// is a leftover and is taken over; anything else there (a directory with a socket in it,
// another forward's socket file) belongs to a live forward and is left alone.
func freshDir(own string) error {
	err := os.Mkdir(own, 0o700)
	if errors.Is(err, fs.ErrExist) && privateDirOf(own) == nil && syscall.Rmdir(own) == nil {
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

// socketListener is a forward's socket. Close removes the socket file, and its second name
// alias, only while they are still the file it bound (another agent's, or one made after, is
// never unlinked), then dir, the socket's own directory, when that is left empty.
type socketListener struct {
	*net.UnixListener
	path, alias, dir string
	dev, ino         uint64
	once             sync.Once
}

func (l *socketListener) Close() error {
	err := l.UnixListener.Close()
	l.once.Do(func() {
		for _, p := range []string{l.alias, l.path} {
			var st syscall.Stat_t
			if p != "" && syscall.Lstat(p, &st) == nil && uint64(st.Dev) == l.dev && uint64(st.Ino) == l.ino {
				_ = os.Remove(p)
			}
		}
		if l.dir != "" {
			_ = syscall.Rmdir(l.dir)
		}
	})
	return err
}

// privateDir makes dir 0700 when missing and checks that it is the user's alone.
func privateDir(dir string) error { return safesocket.MakePrivateDir(dir) }

// privateDirOf says why dir is not a directory of ours that no one else may enter; nil if it is.
func privateDirOf(dir string) error { return safesocket.CheckPrivateDir(dir) }

// RemoveStaleSockets deletes the sockets a killed agent left in dir, and the directories of
// their own that it leaves empty. Only the agent holding the agent lock may call it, with the
// directory of its own socket: no live forward can be using them then.
func RemoveStaleSockets(dir string) {
	if _, err := os.Lstat(dir); err != nil || privateDir(dir) != nil {
		return // nothing there, or not ours to clean: opening a forward's socket will say why
	}
	for _, e := range removeSocketsIn(dir) {
		if e.IsDir() { // not a symlink: ReadDir does not follow them
			own := filepath.Join(dir, e.Name())
			removeSocketsIn(own)
			_ = syscall.Rmdir(own) // only when nothing but sockets was in it
		}
	}
}

// RemoveSocketDir removes dir, an agent's directory of forward sockets, when it is empty: an
// agent that ends cleanly leaves nothing behind. Call it once every forward has ended.
func RemoveSocketDir(dir string) {
	if privateDirOf(dir) == nil {
		_ = syscall.Rmdir(dir) // only an empty directory goes
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

// ShortHash names a thing by a short hash of s, where its own name cannot serve.
func ShortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}
