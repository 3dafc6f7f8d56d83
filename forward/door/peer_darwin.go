package door

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// tcpPeerKnowable: macOS has no interface that tells who owns a TCP peer socket.
const tcpPeerKnowable = false

// tcpPeerUID: macOS has no interface that tells who owns a TCP peer socket.
func tcpPeerUID(*net.TCPConn) (int, error) { return -1, errPeerUnknowable }

// UnixPeerUID returns the uid of the process at the other end of c, as the kernel recorded it
// when it connected (LOCAL_PEERCRED, what getpeereid(3) reads), so the peer cannot forge it. The
// agent checks its own socket's clients with it too.
func UnixPeerUID(c *net.UnixConn) (int, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return -1, err
	}
	var cred *unix.Xucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptXucred(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	}); err != nil {
		return -1, err
	}
	if credErr != nil {
		return -1, fmt.Errorf("reading peer credentials: %w", credErr)
	}
	return int(cred.Uid), nil
}
