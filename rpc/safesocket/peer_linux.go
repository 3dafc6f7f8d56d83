package safesocket

import (
	"fmt"
	"net"
	"syscall"
)

// PeerUID returns the uid of the process at the other end of c, as the kernel recorded it when
// the connection was made (SO_PEERCRED), so the peer cannot forge it.
func PeerUID(c *net.UnixConn) (int, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return -1, err
	}
	var cred *syscall.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return -1, err
	}
	if credErr != nil {
		return -1, fmt.Errorf("reading peer credentials: %w", credErr)
	}
	return int(cred.Uid), nil
}
