//go:build !linux && !darwin

package safesocket

import "net"

// PeerUID cannot tell here: callers refuse (fail closed).
func PeerUID(*net.UnixConn) (int, error) { return -1, ErrPeerUnknown }
