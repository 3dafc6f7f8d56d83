// Package mysql is MySQL's and MariaDB's wire as far as rhizome speaks it: the server's
// greeting that proves a server answers, the simulated server, the door's refusals in the
// client's protocol, and the door's login for a client that brings no password (Open,
// CheckLogin).
package mysql

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

// mysqlProtocolV10 is the first payload byte of every MySQL/MariaDB server greeting since 3.21.
const mysqlProtocolV10 = 10

// Exchange reads the MySQL server greeting on conn, proving the whole chain (door → stream →
// pod → proxy → database) works. It returns the server's version string.
func Exchange(conn net.Conn) (string, error) {
	return readGreeting(conn)
}

// readGreeting parses the first packet: a 3-byte length, a sequence byte, then protocol
// version 10 and a NUL-terminated server version.
func readGreeting(r io.Reader) (string, error) {
	payload, err := readFirstPacket(r)
	if err != nil {
		return "", err
	}
	if payload[0] == packetErr && len(payload) >= 3 { // the server refused us, but it is a MySQL server
		code := binary.LittleEndian.Uint16(payload[1:3])
		return "", fmt.Errorf("%w: the MySQL server sent error %d: %s", wire.ErrNoGreeting, code, trimmed(payload[3:]))
	}
	if payload[0] != mysqlProtocolV10 {
		return "", fmt.Errorf("%w: no MySQL greeting: protocol byte %d, want %d", wire.ErrNoGreeting, payload[0], mysqlProtocolV10)
	}
	end := 1
	for end < len(payload) && payload[end] != 0 {
		end++
	}
	return string(payload[1:end]), nil
}

// readFirstPacket reads what a MySQL server sends first, its greeting or an ERR, without
// reading past it. An error wraps wire.ErrNoGreeting when what came cannot be a server's first
// packet.
func readFirstPacket(r io.Reader) ([]byte, error) {
	var header [4]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		if wire.ClosedEarly(err) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("no MySQL greeting: %w", wire.ErrSilent)
		}
		return nil, fmt.Errorf("%w: no MySQL greeting: %v", wire.ErrNoGreeting, err)
	}
	size := int(header[0]) | int(header[1])<<8 | int(header[2])<<16
	if size < 2 || size > maxHandshakePacket {
		return nil, fmt.Errorf("%w: no MySQL greeting: first packet of %d bytes", wire.ErrNoGreeting, size)
	}
	payload := make([]byte, size)
	if _, err := io.ReadFull(r, payload); err != nil {
		return nil, fmt.Errorf("%w: no MySQL greeting: %v", wire.ErrNoGreeting, err)
	}
	return payload, nil
}

func trimmed(b []byte) string {
	if len(b) > 120 {
		b = b[:120]
	}
	return string(b)
}

// AppendGreeting appends a MySQL protocol v10 greeting packet announcing version, as the
// simulated forward's server sends it. Clients read it; the simulation serves nothing more.
func AppendGreeting(b []byte, version string, connID uint32) []byte {
	payload := []byte{mysqlProtocolV10}
	payload = append(payload, version...)
	payload = append(payload, 0)
	payload = binary.LittleEndian.AppendUint32(payload, connID)
	payload = append(payload, "rhizome1"...) // auth-plugin-data part 1 (8 bytes)
	payload = append(payload, 0)
	const caps = 0x0000_a20f | 0x0008_0000 // long password, found rows, long flag, connect with db, protocol 41, secure connection, plugin auth
	payload = binary.LittleEndian.AppendUint16(payload, uint16(caps&0xffff))
	payload = append(payload, 0x21)                             // utf8_general_ci
	payload = binary.LittleEndian.AppendUint16(payload, 0x0002) // autocommit
	payload = binary.LittleEndian.AppendUint16(payload, uint16(caps>>16))
	payload = append(payload, 21)                    // auth-plugin-data length
	payload = append(payload, make([]byte, 10)...)   // reserved
	payload = append(payload, "simulated123\x00"...) // auth-plugin-data part 2 (13 bytes)
	payload = append(payload, "mysql_native_password\x00"...)
	b = append(b, byte(len(payload)), byte(len(payload)>>8), byte(len(payload)>>16), 0)
	return append(b, payload...)
}
