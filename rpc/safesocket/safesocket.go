// Package safesocket is the one home of the checks a client makes before it trusts a local
// socket: that the directory holding it is the user's own, and that the process listening on it
// runs as the user (the kernel's word for that very connection, which a peer cannot forge).
//
// A check that cannot decide refuses: ErrPeerUnknown is what a platform without a peer
// credential interface answers, and callers treat it as "no".
package safesocket

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// ErrPeerUnknown means this platform offers no way to learn who is at the other end of a
// socket.
var ErrPeerUnknown = errors.New("this platform cannot tell who is at the other end of a socket")

// ErrUnsafe is wrapped by every refusal of CheckSocket and CheckPeer.
var ErrUnsafe = errors.New("not your agent")

// MaxPath is one more than the longest path a Unix socket address can carry on every platform
// rhizome runs on (sun_path is 104 bytes on macOS, with its NUL).
const MaxPath = 104

// CheckPath says what is wrong with path as a socket to dial, in words: too long for a socket
// address, or something other than a socket. A path that does not exist is fine here.
func CheckPath(path string) error {
	if len(path) >= MaxPath {
		return fmt.Errorf("socket path %s is %d bytes long; Unix sockets allow fewer than %d", path, len(path), MaxPath)
	}
	fi, err := os.Lstat(path)
	switch {
	case err != nil:
		return nil
	case fi.IsDir():
		return fmt.Errorf("%s is a directory, not a socket", path)
	case fi.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("%s is a symlink, not a socket", path)
	case fi.Mode()&os.ModeSocket == 0:
		return fmt.Errorf("%s is a %s, not a socket", path, fileKind(fi.Mode()))
	}
	return nil
}

func fileKind(m os.FileMode) string {
	switch {
	case m.IsRegular():
		return "regular file"
	case m&os.ModeNamedPipe != 0:
		return "named pipe"
	case m&os.ModeDevice != 0:
		return "device"
	}
	return "file of another kind"
}

// CheckSocket reports whether path is a socket only the user (or root) could have put there:
// its directory is a real directory (not a symlink) owned by the user that no one else may
// write in, or a sticky directory (as /tmp) in which the socket file itself is the user's. A
// path that does not exist yet is fine when its directory is: nothing answers there anyway.
func CheckSocket(path string) error {
	dir := filepath.Dir(path)
	st, err := lstat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking socket directory %s: %w", dir, err)
	}
	uid := os.Getuid()
	switch {
	case st.Mode&syscall.S_IFMT == syscall.S_IFLNK:
		return unsafe(dir, "is a symlink", "remove it")
	case st.Mode&syscall.S_IFMT != syscall.S_IFDIR:
		return unsafe(dir, "is not a directory", "remove it")
	case int(st.Uid) == uid && st.Mode&0o022 == 0:
		return nil
	case st.Mode&syscall.S_ISVTX != 0 && (int(st.Uid) == uid || st.Uid == 0):
		// In a sticky directory only the owner of a file may remove or rename it.
		sock, err := lstat(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("checking socket %s: %w", path, err)
		}
		if int(sock.Uid) != uid {
			return unsafe(path, fmt.Sprintf("belongs to uid %d, not you (uid %d), in the shared directory %s", sock.Uid, uid, dir),
				"use a socket in a directory of your own")
		}
		return nil
	case int(st.Uid) != uid:
		return unsafe(dir, fmt.Sprintf("belongs to uid %d, not you (uid %d)", st.Uid, uid),
			"have it removed (it is not yours to trust), or use a directory of your own: set XDG_RUNTIME_DIR to one, or RHIZOME_SOCK to a socket in one")
	default:
		return unsafe(dir, fmt.Sprintf("has mode %04o: others may write in it", st.Mode&0o7777),
			"run chmod 700 "+dir)
	}
}

// CheckPeer refuses a peer whose uid, as the kernel recorded it, is not the user's.
func CheckPeer(socket string, uid int, err error) error {
	if err != nil {
		return fmt.Errorf("%w: cannot tell who listens on %s (%v), so not talking to it", ErrUnsafe, socket, err)
	}
	if uid != os.Getuid() {
		return fmt.Errorf("%w: the process listening on %s runs as uid %d, not as you (uid %d): another user may be posing as your agent; not sending it anything",
			ErrUnsafe, socket, uid, os.Getuid())
	}
	return nil
}

func unsafe(what, why, fix string) error {
	return fmt.Errorf("%w: socket directory %s %s, so another user could be posing as your agent; not connecting: %s", ErrUnsafe, what, why, fix)
}

func lstat(path string) (*syscall.Stat_t, error) {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return nil, &os.PathError{Op: "lstat", Path: path, Err: err}
	}
	return &st, nil
}
