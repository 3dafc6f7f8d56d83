package agent

import (
	"fmt"
	"net"
	"syscall"
)

// peerUID returns the uid of the process at the other end of c, as the kernel recorded it when
// it connected (SO_PEERCRED), so it cannot be forged by the peer.
func peerUID(c *net.UnixConn) (int, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return -1, err
	}
	var cred *syscall.Ucred
	var credErr error
	err = raw.Control(func(fd uintptr) {
		cred, credErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	})
	if err != nil {
		return -1, err
	}
	if credErr != nil {
		return -1, fmt.Errorf("reading peer credentials: %w", credErr)
	}
	return int(cred.Uid), nil
}
