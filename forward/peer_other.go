//go:build !linux

package forward

import "net"

// tcpPeerUID: outside Linux no interface tells who owns a TCP peer socket (macOS has none).
func tcpPeerUID(*net.TCPConn) (int, error) { return -1, errPeerUnknowable }

// unixPeerUID: the socket's 0600 mode in a 0700 directory keeps other users out.
func unixPeerUID(*net.UnixConn) (int, error) { return -1, errPeerUnknowable }
