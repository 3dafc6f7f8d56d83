package door

import (
	"errors"
	"net"
)

// errPeerUnknowable means the platform offers no way to learn who owns the other end of a
// connection; the front door then relies on the port being on loopback (and on the Unix
// socket's file mode), as doctor and the README say.
var errPeerUnknowable = errors.New("forward: this platform cannot tell who is at the other end of a TCP connection")

// peerUID returns the uid of the process at the other end of c, as the kernel recorded it:
// a peer cannot forge it.
func peerUID(c net.Conn) (int, error) {
	switch c := c.(type) {
	case *net.TCPConn:
		return tcpPeerUID(c)
	case *net.UnixConn:
		return UnixPeerUID(c)
	}
	return -1, errPeerUnknowable
}

// LoginEndpoints names the front door's endpoints whose peers the door verifies as the owner
// on this platform: the only ones on which it may log a client in to the database.
func LoginEndpoints() []string {
	if tcpPeerKnowable {
		return []string{"tcp", "socket"}
	}
	return []string{"socket"}
}
