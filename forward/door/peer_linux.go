package door

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"syscall"
	"time"
)

// tcpPeerKnowable: the kernel's socket table (sock_diag) names every TCP peer's owner.
const tcpPeerKnowable = true

// Linux's sock_diag interface (linux/sock_diag.h, linux/inet_diag.h).
const (
	netlinkInetDiag   = 4  // NETLINK_INET_DIAG
	sockDiagByFamily  = 20 // SOCK_DIAG_BY_FAMILY
	inetDiagNoCookie  = ^uint32(0)
	nlmsgHeaderLen    = 16
	inetDiagReqV2Len  = 56
	inetDiagMsgLen    = 72 // struct inet_diag_msg, up to and including idiag_inode
	inetDiagMsgUIDOff = 64 // idiag_uid's offset in struct inet_diag_msg
	inetDiagMsgInoOff = 68 // idiag_inode's

	// The client's TCP states in which its socket is still its own and connected to us: open,
	// or half-closed after its request (shutdown(SHUT_WR)) and still waiting for the answer.
	tcpEstablished = 1
	tcpFinWait1    = 4
	tcpFinWait2    = 5
)

// tcpPeerUID returns the owner of the socket at the other end of c, a connection accepted on a
// loopback address. It asks the kernel for the one socket whose source is c's remote address
// and whose destination is c's local address: the client's own socket. The kernel's lookup
// falls back to a listening socket, and a client that has closed leaves a time-wait socket
// owned by no one (uid 0), so the answer counts only when it is that very connection: the same
// 4-tuple, a connected state and an inode (a socket some process still holds).
func tcpPeerUID(c *net.TCPConn) (int, error) {
	local, _ := c.LocalAddr().(*net.TCPAddr)
	remote, _ := c.RemoteAddr().(*net.TCPAddr)
	if local == nil || remote == nil {
		return -1, errPeerUnknowable
	}
	return sockDiagUID(remote, local)
}

// sockDiagUID looks up the TCP socket from src to dst with one SOCK_DIAG_BY_FAMILY request.
func sockDiagUID(src, dst *net.TCPAddr) (int, error) {
	family, ipLen := syscall.AF_INET6, net.IPv6len
	if src.IP.To4() != nil {
		family, ipLen = syscall.AF_INET, net.IPv4len
	}
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, netlinkInetDiag)
	if err != nil {
		return -1, fmt.Errorf("opening sock_diag: %w", err)
	}
	defer syscall.Close(fd)
	tv := syscall.NsecToTimeval(int64(time.Second))
	_ = syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv)

	msg := make([]byte, nlmsgHeaderLen+inetDiagReqV2Len)
	ne := binary.NativeEndian
	ne.PutUint32(msg[0:], uint32(len(msg)))
	ne.PutUint16(msg[4:], sockDiagByFamily)
	ne.PutUint16(msg[6:], syscall.NLM_F_REQUEST)
	req := msg[nlmsgHeaderLen:]
	req[0], req[1] = byte(family), syscall.IPPROTO_TCP
	ne.PutUint32(req[4:], 1<<tcpEstablished|1<<tcpFinWait1|1<<tcpFinWait2)
	id := req[8:]
	binary.BigEndian.PutUint16(id[0:], uint16(src.Port))
	binary.BigEndian.PutUint16(id[2:], uint16(dst.Port))
	copy(id[4:4+ipLen], ipBytes(src.IP, ipLen))
	copy(id[20:20+ipLen], ipBytes(dst.IP, ipLen))
	ne.PutUint32(id[40:], inetDiagNoCookie)
	ne.PutUint32(id[44:], inetDiagNoCookie)
	if err := syscall.Sendto(fd, msg, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return -1, fmt.Errorf("asking sock_diag: %w", err)
	}
	buf := make([]byte, 1024)
	n, _, err := syscall.Recvfrom(fd, buf, 0)
	if err != nil {
		return -1, fmt.Errorf("reading sock_diag: %w", err)
	}
	buf = buf[:n]
	if n < nlmsgHeaderLen {
		return -1, fmt.Errorf("sock_diag answered %d bytes", n)
	}
	switch ne.Uint16(buf[4:]) {
	case syscall.NLMSG_ERROR:
		if n >= nlmsgHeaderLen+4 {
			if errno := int32(ne.Uint32(buf[nlmsgHeaderLen:])); errno < 0 {
				return -1, fmt.Errorf("sock_diag: no socket from %s to %s: %w", src, dst, syscall.Errno(-errno))
			}
		}
		return -1, fmt.Errorf("sock_diag: error without a code")
	case sockDiagByFamily:
		if n < nlmsgHeaderLen+inetDiagMsgLen {
			return -1, fmt.Errorf("sock_diag answered a short message of %d bytes", n)
		}
		return diagMsgUID(buf[nlmsgHeaderLen:], family, ipLen, src, dst)
	}
	return -1, fmt.Errorf("sock_diag answered message type %d", ne.Uint16(buf[4:]))
}

// diagMsgUID returns the uid in m, a struct inet_diag_msg, when m is the connected socket from
// src to dst, and an error saying what else it is otherwise.
func diagMsgUID(m []byte, family, ipLen int, src, dst *net.TCPAddr) (int, error) {
	id := m[4:]
	gotSrc := &net.TCPAddr{IP: net.IP(bytes.Clone(id[4 : 4+ipLen])), Port: int(binary.BigEndian.Uint16(id[0:]))}
	gotDst := &net.TCPAddr{IP: net.IP(bytes.Clone(id[20 : 20+ipLen])), Port: int(binary.BigEndian.Uint16(id[2:]))}
	state := m[1]
	switch {
	case int(m[0]) != family || gotSrc.Port != src.Port || gotDst.Port != dst.Port ||
		!gotSrc.IP.Equal(src.IP) || !gotDst.IP.Equal(dst.IP):
		return -1, fmt.Errorf("sock_diag answered about another socket (%s to %s, state %d), not the connection from %s to %s", gotSrc, gotDst, state, src, dst)
	case state != tcpEstablished && state != tcpFinWait1 && state != tcpFinWait2:
		return -1, fmt.Errorf("the connection from %s is no longer open (TCP state %d)", src, state)
	case binary.NativeEndian.Uint32(m[inetDiagMsgInoOff:]) == 0:
		return -1, fmt.Errorf("the connection from %s belongs to no process any more (it was closed)", src)
	}
	return int(binary.NativeEndian.Uint32(m[inetDiagMsgUIDOff:])), nil
}

func ipBytes(ip net.IP, n int) net.IP {
	if n == net.IPv4len {
		return ip.To4()
	}
	return ip.To16()
}

// UnixPeerUID returns the uid of the process at the other end of c, as the kernel recorded it
// when it connected (SO_PEERCRED), so the peer cannot forge it. The agent checks its own socket's
// clients with it too.
func UnixPeerUID(c *net.UnixConn) (int, error) {
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
