//go:build !linux && !darwin

package safesocket

import "net"

// Peer cannot tell here: callers refuse (fail closed).
func Peer(*net.UnixConn) (uid, pid int, err error) { return -1, 0, ErrPeerUnknown }
