package mysql

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
)

// The capability flags rhizome looks at or sets, as MySQL's protocol documentation names them
// (MariaDB uses the same bits for these).
const (
	clientLongPassword     = 1 << 0 // MariaDB: CLIENT_MYSQL; clear when MariaDB's extended caps follow
	clientConnectWithDB    = 1 << 3
	clientProtocol41       = 1 << 9
	clientSSL              = 1 << 11
	clientTransactions     = 1 << 13
	clientSecureConnection = 1 << 15
	clientMultiResults     = 1 << 17
	clientPluginAuth       = 1 << 19
	clientConnectAttrs     = 1 << 20
	clientPluginAuthLenenc = 1 << 21
)

// Packet types by first payload byte.
const (
	packetOK           = 0x00
	packetMoreData     = 0x01 // AuthMoreData
	packetAuthSwitch   = 0xfe // AuthSwitchRequest during the handshake
	packetErr          = 0xff
	comQuit            = 0x01
	maxHandshakePacket = 1 << 16
)

// errTooLarge refuses a handshake packet longer than any a client or server sends: the door
// reads them into memory before it knows who is talking.
var errTooLarge = errors.New("mysql: handshake packet too large")

// packetConn reads and writes whole packets on a connection in the handshake, keeping the
// sequence number as MySQL wants it: each packet's is one more than the last one's, whoever
// sent it. It reads exactly the packets' bytes, never ahead, so that the connection can be
// handed on to a relay with nothing lost. It is not safe for concurrent use.
type packetConn struct {
	conn net.Conn
	seq  byte // the next packet's sequence number
}

// read returns the next packet's payload.
func (p *packetConn) read() ([]byte, error) {
	seq, payload, err := readPacket(p.conn)
	if err != nil {
		return nil, err
	}
	p.seq = seq + 1
	return payload, nil
}

// write sends payload as the next packet.
func (p *packetConn) write(payload []byte) error {
	err := writePacket(p.conn, p.seq, payload)
	p.seq++
	return err
}

// readPacket reads one packet of at most maxHandshakePacket bytes: a 3-byte little-endian
// length, a sequence byte, then the payload. It uses no buffer, so nothing past the packet is
// consumed.
func readPacket(r io.Reader) (seq byte, payload []byte, err error) {
	var header [4]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return 0, nil, err
	}
	size := int(header[0]) | int(header[1])<<8 | int(header[2])<<16
	if size > maxHandshakePacket {
		return 0, nil, fmt.Errorf("%w (%d bytes)", errTooLarge, size)
	}
	payload = make([]byte, size)
	if _, err := io.ReadFull(r, payload); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return header[3], payload, nil
}

// writePacket sends payload (shorter than 16 MiB: handshake packets are) as one packet with
// sequence number seq, in a single write.
func writePacket(w io.Writer, seq byte, payload []byte) error {
	_, err := w.Write(appendPacket(nil, seq, payload))
	return err
}

// appendPacket appends payload framed as a packet with sequence number seq.
func appendPacket(b []byte, seq byte, payload []byte) []byte {
	n := len(payload)
	b = append(b, byte(n), byte(n>>8), byte(n>>16), seq)
	return append(b, payload...)
}

// serverError is an ERR packet: what a server (or the door) said went wrong.
type serverError struct {
	Code    uint16
	State   string // SQLSTATE; "" when the packet carried none
	Message string
}

func (e *serverError) Error() string {
	if e.State == "" {
		return fmt.Sprintf("mysql: error %d: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("mysql: error %d (%s): %s", e.Code, e.State, e.Message)
}

// parseErr reads an ERR packet's payload. The SQLSTATE follows a '#' only when both sides
// speak protocol 4.1, so its absence is normal before the handshake.
func parseErr(p []byte) *serverError {
	if len(p) < 3 || p[0] != packetErr {
		return &serverError{Code: 2027, Message: "malformed error packet"} // CR_MALFORMED_PACKET
	}
	e := &serverError{Code: binary.LittleEndian.Uint16(p[1:3])}
	rest := p[3:]
	if len(rest) >= 6 && rest[0] == '#' {
		e.State, rest = string(rest[1:6]), rest[6:]
	}
	e.Message = string(rest)
	return e
}

// appendErr appends an ERR payload. state is sent after a '#' when non-empty; pass "" for a
// client that has not said it speaks protocol 4.1, which includes every client before the
// greeting (see refuse.go).
func appendErr(b []byte, code uint16, state, message string) []byte {
	b = append(b, packetErr)
	b = binary.LittleEndian.AppendUint16(b, code)
	if state != "" {
		b = append(append(b, '#'), state...)
	}
	return append(b, message...)
}

// stateFor is the SQLSTATE an ERR from the door carries: only to a client that speaks
// protocol 4.1 (see appendErr).
func stateFor(clientCaps uint32, state string) string {
	if clientCaps&clientProtocol41 == 0 {
		return ""
	}
	return state
}
