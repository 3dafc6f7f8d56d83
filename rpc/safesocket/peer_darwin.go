package safesocket

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// Peer returns the uid and pid of the process at the other end of c, as the kernel recorded
// them when the connection was made (LOCAL_PEERCRED, what getpeereid(3) reads, and
// LOCAL_PEERPID), so the peer cannot forge them.
func Peer(c *net.UnixConn) (uid, pid int, err error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return -1, 0, err
	}
	var cred *unix.Xucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptXucred(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
		if credErr == nil {
			pid, _ = unix.GetsockoptInt(int(fd), unix.SOL_LOCAL, unix.LOCAL_PEERPID)
		}
	}); err != nil {
		return -1, 0, err
	}
	if credErr != nil {
		return -1, 0, fmt.Errorf("reading peer credentials: %w", credErr)
	}
	return int(cred.Uid), pid, nil
}
