package mysql

import (
	"encoding/binary"
	"net"

	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

// The error numbers and SQLSTATEs the door answers with when it, not the server, ends a
// session's opening. All are server error numbers (below 2000): libmariadb takes an ERR from
// the server with a client error number (CR_*, 2000 and up, such as 2003 "Can't connect")
// for a forgery and reports "ERROR 2027: Received malformed packet" instead of the words.
const (
	// errRefused is ER_UNKNOWN_ERROR, what MySQL and proxies such as Vitess answer when no
	// more precise number applies. It is not 1045 (access denied), for which tools ask for a
	// password that would not help, nor 1040 (too many connections), which would mislead.
	errRefused = 1105
	// stateWait is the SQLSTATE of a refusal that may pass by itself (08001: the client could
	// not establish the connection); stateAct of one where someone must act (08004: the
	// server rejected the connection). Pools treat class 08 as a connection failure.
	stateWait = "08001"
	stateAct  = "08004"
	// stateLink is the SQLSTATE of a connection that broke during the opening.
	stateLink = "08S01"

	errAccessDenied  = 1045 // ER_ACCESS_DENIED_ERROR: the door could not get its password
	stateAccess      = "28000"
	errHandshake     = 1043 // ER_HANDSHAKE_ERROR, "Bad handshake": a response the door cannot take
	errPluginMissing = 1524 // ER_PLUGIN_IS_NOT_LOADED: MariaDB's answer for an auth plugin it lacks
	stateGeneral     = "HY000"
)

// doorVersion is the server version in the greeting with which the door opens a refusal.
const doorVersion = "8.0.0-rhizome-door"

// Refuse tells a client on conn why the door cannot serve it, with an ERR carrying r's message
// and hint (error 1105, SQLSTATE 08001 when r is transient, else 08004). It first greets the
// client and reads its handshake response, as a server whose login failed would, then answers
// with the ERR; the mariadb client prints "ERROR 1105 (08001): rhizome: na-prod/bookkeeper is
// reconnecting …: check your network or VPN".
//
// Why not an ERR in place of the greeting, as a server refusing a host does: libmariadb
// (the mariadb client) connects with TLS wanted by default, and an ERR before the TLS
// handshake cannot be trusted, so it prints "ERROR 2002 (HY000): Received error packet before
// completion of TLS handshake. The authenticity of the following error cannot be verified:
// 1105 - rhizome: …" around the words; and there the ERR could carry no SQLSTATE (a server
// sends the '#'+SQLSTATE marker only to a client that said it speaks protocol 4.1, and
// Oracle's libmysqlclient looks for it only then). After the greeting the client has said, and
// every client prints the ERR as it is. The greeting offers no TLS, so a client that
// insists on TLS reports that instead. The refusal is bounded by conn's deadline, which the
// door sets.
func Refuse(conn net.Conn, r wire.Refusal) error {
	state := stateAct
	if r.Transient {
		state = stateWait
	}
	return refuse(conn, AppendGreeting(nil, doorVersion, 0), errRefused, state, r.Text())
}

// refuse greets the client on conn with greeting, reads its handshake response (closing with it
// unread could reset the connection and lose the ERR), and answers with an ERR.
func refuse(conn net.Conn, greeting []byte, code uint16, state, message string) error {
	if _, err := conn.Write(greeting); err != nil {
		return err
	}
	_, resp, err := readPacket(conn)
	if err != nil {
		return err
	}
	var caps uint32
	if len(resp) >= 4 {
		caps = binary.LittleEndian.Uint32(resp)
	}
	return writePacket(conn, 2, appendErr(nil, code, stateFor(caps, state), message))
}
