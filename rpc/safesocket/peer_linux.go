package safesocket

import (
	"fmt"
	"net"
	"syscall"
)

// Peer returns the uid and pid of the process at the other end of c, as the kernel recorded
// them when the connection was made (SO_PEERCRED), so the peer cannot forge them.
func Peer(c *net.UnixConn) (uid, pid int, err error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return -1, 0, err
	}
	var cred *syscall.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return -1, 0, err
	}
	if credErr != nil {
		return -1, 0, fmt.Errorf("reading peer credentials: %w", credErr)
	}
	return int(cred.Uid), int(cred.Pid), nil
}
