//go:build !linux && !darwin

package door

import "net"

// tcpPeerKnowable: no peer's uid can be read.
const tcpPeerKnowable = false

// Elsewhere no peer's uid can be read: loopback and the socket's 0600 mode in a 0700
// directory are the guard.
func tcpPeerUID(*net.TCPConn) (int, error) { return -1, errPeerUnknowable }

// UnixPeerUID: see tcpPeerUID.
func UnixPeerUID(*net.UnixConn) (int, error) { return -1, errPeerUnknowable }
