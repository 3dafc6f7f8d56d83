package agent

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rhizome-dev/rhizome/rpc/safesocket"
)

// maxSocketPath is one more than the longest path a Unix socket address can carry portably.
const maxSocketPath = safesocket.MaxPath

// ErrAgentRunning means another agent holds the socket's lock.
var ErrAgentRunning = errors.New("agent: another agent is running")

// listener is the agent's socket with the lock that makes it ours. Close removes the socket
// (if it is still ours) and releases the lock.
type listener struct {
	*net.UnixListener
	path string
	lock *os.File
	ino  uint64
}

// listen prepares the socket directory, takes the lock next to the socket, removes a stale
// socket left by a dead agent and listens with mode 0600. With strictDir the directory must be
// private (0700 and ours), as the default directory always is.
func listen(path string, strictDir bool) (*listener, error) {
	if len(path) >= maxSocketPath {
		return nil, fmt.Errorf("socket path %s is %d bytes long; Unix sockets allow fewer than %d: choose a shorter one with -a", path, len(path), maxSocketPath)
	}
	dir := filepath.Dir(path)
	if err := prepareDir(dir, strictDir); err != nil {
		return nil, err
	}
	lock, err := takeLock(LockPath(path))
	if err != nil {
		return nil, err
	}
	if err := removeStale(path); err != nil {
		lock.Close()
		return nil, err
	}
	old := syscall.Umask(0o177) // no window in which the socket is reachable by others
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	syscall.Umask(old)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("listening on %s: %w", path, err)
	}
	l.SetUnlinkOnClose(false) // we unlink only our own socket, below
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		lock.Close()
		return nil, fmt.Errorf("securing %s: %w", path, err)
	}
	var st syscall.Stat_t
	_ = syscall.Stat(path, &st)
	return &listener{UnixListener: l, path: path, lock: lock, ino: st.Ino}, nil
}

// prepareDir creates dir 0700 when missing. An existing dir with looser modes or another owner
// is refused: anyone who can write there could swap the socket under the user's clients.
func prepareDir(dir string, strict bool) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating socket directory: %w", err)
	}
	if !strict {
		return nil
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(dir, &st); err != nil {
		return fmt.Errorf("checking socket directory: %w", err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		return fmt.Errorf("socket directory %s is not a directory: remove it", dir)
	}
	if int(st.Uid) != os.Getuid() {
		return fmt.Errorf("socket directory %s belongs to uid %d, not you (uid %d): remove it or choose another socket with -a", dir, st.Uid, os.Getuid())
	}
	if perm := st.Mode & 0o777; perm&0o077 != 0 {
		return fmt.Errorf("socket directory %s has mode %04o, want 0700: run chmod 700 %s", dir, perm, dir)
	}
	return nil
}

// LockPath is the lock file of the agent listening on socket. It holds the agent's pid.
func LockPath(socket string) string { return socket + ".lock" }

// takeLock holds an exclusive flock for the agent's lifetime. The kernel drops it when the
// agent dies, even by kill -9, so a dead holder never blocks the next agent.
func takeLock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (pid %s holds %s)", ErrAgentRunning, strings.TrimSpace(string(holder)), path)
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return f, nil
}

// removeStale removes a socket nobody answers on. We hold the lock, so no live agent owns it.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking %s: %w", path, err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("%s exists and is not a socket: remove it or choose another path with -a", path)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("%w: something already answers on %s", ErrAgentRunning, path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing stale socket %s: %w", path, err)
	}
	return nil
}

// Close stops listening, removes the socket if it is still the one we created, and releases
// the lock.
func (l *listener) Close() error {
	err := l.UnixListener.Close()
	var st syscall.Stat_t
	if syscall.Stat(l.path, &st) == nil && st.Ino == l.ino {
		_ = os.Remove(l.path)
	}
	l.lock.Close()
	return err
}
