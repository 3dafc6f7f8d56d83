package agent

import (
	"errors"
	"fmt"
	"io"
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

// listener is the agent's socket with the lock that makes it ours. Close stops listening and
// removes the socket (if it is still ours); unlock then removes the lock file (if it is still
// ours) and releases the lock, last of all, so no other agent takes the socket's place while
// this one is still cleaning up.
type listener struct {
	*net.UnixListener
	path string
	lock *os.File
	ino  uint64
}

// listen prepares the socket directory, takes the lock next to the socket, removes a stale
// socket left by a dead agent and listens with mode 0600. With strictDir the directory must be
// private (0700 and ours), as the default directory always is; otherwise no other user may be
// able to write in it, unless it is sticky (as /tmp is) and the files in it are ours.
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
	unlock := func() { releaseLock(lock) }
	if err := removeStale(path); err != nil {
		unlock()
		return nil, err
	}
	old := syscall.Umask(0o177) // no window in which the socket is reachable by others
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	syscall.Umask(old)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("listening on %s: %w", path, err)
	}
	l.SetUnlinkOnClose(false) // we unlink only our own socket, below
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		unlock()
		return nil, fmt.Errorf("securing %s: %w", path, err)
	}
	var st syscall.Stat_t
	_ = syscall.Stat(path, &st)
	return &listener{UnixListener: l, path: path, lock: lock, ino: uint64(st.Ino)}, nil
}

// prepareDir creates dir 0700 when missing. With strict, an existing dir with looser modes or
// another owner is refused: anyone who can write there could swap the socket under the user's
// clients. Without, a directory the user chose (-a) is refused only when another user can
// write in it and it is not sticky: there that user could replace the socket or plant the
// lock; in a sticky one they cannot touch our files, and the files' own checks refuse theirs.
func prepareDir(dir string, strict bool) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating socket directory: %w", err)
	}
	var st syscall.Stat_t
	if err := syscall.Lstat(dir, &st); err != nil {
		return fmt.Errorf("checking socket directory: %w", err)
	}
	if !strict && st.Mode&syscall.S_IFMT == syscall.S_IFLNK {
		// A directory the user named may be reached through a link of theirs (macOS's /tmp).
		if err := syscall.Stat(dir, &st); err != nil {
			return fmt.Errorf("checking socket directory: %w", err)
		}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		return fmt.Errorf("socket directory %s is not a directory: remove it", dir)
	}
	if !strict {
		return sharedDirOK(dir, &st)
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

// sharedDirOK refuses a directory (st) that another user can write in without its sticky bit:
// one owned by another user (but root), or open to the group or to all.
func sharedDirOK(dir string, st *syscall.Stat_t) error {
	if owner := int(st.Uid); owner != os.Getuid() && owner != 0 {
		return fmt.Errorf("socket directory %s belongs to uid %d, who could replace the agent's socket or lock: choose a directory of your own with -a", dir, owner)
	}
	if perm := st.Mode & 0o7777; perm&0o022 != 0 && perm&syscall.S_ISVTX == 0 {
		return fmt.Errorf("socket directory %s has mode %04o: other users can write there and replace the agent's socket or lock: choose a directory of your own with -a, or chmod go-w %s", dir, perm, dir)
	}
	return nil
}

// takeLock holds an exclusive flock for the agent's lifetime. The kernel drops it when the
// agent dies, even by kill -9, so a dead holder never blocks the next agent. The lock file is
// never followed through a link, and one the agent did not make (another owner, other links,
// or anything but a pid in it) is refused, never truncated. The file is removed when the agent
// ends cleanly, so a lock taken on a file that is no longer at path is let go and taken again.
func takeLock(path string) (*os.File, error) {
	for range 10 {
		f, err := openLockFile(path)
		if err != nil {
			return nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			holder, _ := io.ReadAll(io.LimitReader(f, 32))
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, fmt.Errorf("%w (pid %s holds %s)", ErrAgentRunning, strings.TrimSpace(string(holder)), path)
			}
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if !samePath(f, path) {
			f.Close() // the agent that held it removed it as it ended: lock the new one
			continue
		}
		_ = f.Truncate(0)
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		return f, nil
	}
	return nil, fmt.Errorf("locking %s: it keeps being replaced: is another program removing it?", path)
}

// openLockFile opens the lock file at path, creating it when missing, and checks that an
// existing one is a lock file as an agent of this user leaves it: a regular file of ours with
// no other link, holding at most a pid.
func openLockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("creating lock %s: %w", path, err)
	}
	f, err = os.OpenFile(path, os.O_RDWR|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("lock %s is a symbolic link, not a lock file of rhizome's: remove it, or choose another socket with -a", path)
	}
	if err != nil {
		return nil, fmt.Errorf("opening lock %s: %w", path, err)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, fmt.Errorf("checking lock %s: %w", path, err)
	}
	head := make([]byte, 33)
	n, _ := f.ReadAt(head, 0)
	var why string
	switch {
	case st.Mode&syscall.S_IFMT != syscall.S_IFREG:
		why = "is not a regular file"
	case int(st.Uid) != os.Getuid():
		why = fmt.Sprintf("belongs to uid %d", st.Uid)
	case st.Nlink != 1:
		why = fmt.Sprintf("has %d names (a hard link to another file?)", st.Nlink)
	case n > 32 || strings.Trim(string(head[:n]), "0123456789\n") != "":
		why = "holds something other than a pid"
	}
	if why != "" {
		f.Close()
		return nil, fmt.Errorf("lock %s %s, so it is not one rhizome left: remove it, or choose another socket with -a", path, why)
	}
	return f, nil
}

// samePath reports whether f is still the file at path.
func samePath(f *os.File, path string) bool {
	var a, b syscall.Stat_t
	return syscall.Fstat(int(f.Fd()), &a) == nil && syscall.Lstat(path, &b) == nil && a.Dev == b.Dev && a.Ino == b.Ino
}

// releaseLock removes the lock file while still holding it, if it is still ours, then lets it go.
func releaseLock(f *os.File) {
	if samePath(f, f.Name()) {
		_ = os.Remove(f.Name())
	}
	f.Close()
}

// removeStale removes a socket nobody answers on. We hold the lock, so no live agent owns it.
// A socket of another user's is never removed.
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
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%s is a socket of uid %d's, not yours: choose another path with -a", path, st.Uid)
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

// Close stops listening and removes the socket if it is still the one we created; the lock
// stays held until unlock.
func (l *listener) Close() error {
	err := l.UnixListener.Close()
	var st syscall.Stat_t
	if syscall.Lstat(l.path, &st) == nil && uint64(st.Ino) == l.ino {
		_ = os.Remove(l.path)
	}
	return err
}

// unlock removes the lock file and releases the lock: the last thing an ending agent does.
func (l *listener) unlock() { releaseLock(l.lock) }
