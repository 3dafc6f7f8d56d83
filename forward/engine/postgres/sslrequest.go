// Package postgres is PostgreSQL's wire as far as rhizome speaks it: the answer to an
// SSLRequest that proves a server answers, the simulated server, the door's refusal as a
// server's FATAL error, and the door's login for the owner (Open) and its check (CheckLogin).
package postgres

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"

	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

// pgSSLRequestCode stands where a StartupMessage has its protocol version: 1234 in the high 16
// bits and 5679 in the low ones, which no protocol version will ever be (PostgreSQL's
// "Message Formats": SSLRequest).
const pgSSLRequestCode = 1234<<16 | 5679

// Exchange sends a PostgreSQL SSLRequest on conn and reads the server's one-byte answer, 'S'
// (TLS offered) or 'N' (not), proving the whole chain works. Nothing more is sent: a
// connection closed after the answer leaves no error in the server's log.
func Exchange(conn net.Conn) (string, error) {
	if _, err := conn.Write(appendSSLRequest(nil)); err != nil {
		return "", fmt.Errorf("%w: sending the PostgreSQL SSLRequest: %v", wire.ErrNoGreeting, err)
	}
	return readSSLAnswer(conn)
}

// appendSSLRequest appends the 8-byte SSLRequest: its length, then the request code.
func appendSSLRequest(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, 8)
	return binary.BigEndian.AppendUint32(b, pgSSLRequestCode)
}

// isSSLRequest reports whether the 8 bytes of msg are an SSLRequest.
func isSSLRequest(msg []byte) bool {
	return len(msg) == 8 && binary.BigEndian.Uint32(msg) == 8 && binary.BigEndian.Uint32(msg[4:]) == pgSSLRequestCode
}

// readSSLAnswer reads the server's answer to an SSLRequest.
func readSSLAnswer(r io.Reader) (string, error) {
	var b [1]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		if wire.ClosedEarly(err) {
			return "", fmt.Errorf("%w: no PostgreSQL answer: the connection closed before the server spoke", wire.ErrNoGreeting)
		}
		return "", fmt.Errorf("%w: no PostgreSQL answer: %v", wire.ErrNoGreeting, err)
	}
	switch b[0] {
	case 'S':
		return "PostgreSQL, TLS offered", nil
	case 'N':
		return "PostgreSQL, TLS not offered", nil
	case 'E':
		// Only a server from before SSL support (7.0) answers with an ErrorResponse: it is a
		// PostgreSQL server, but not one a client of today can use.
		return "", fmt.Errorf("%w: the PostgreSQL server refused the SSLRequest with an error", wire.ErrNoGreeting)
	}
	return "", fmt.Errorf("%w: no PostgreSQL answer: the SSLRequest got %q, want 'S' or 'N' (a server of another engine? check the database's engine in the config)", wire.ErrNoGreeting, b[0])
}
