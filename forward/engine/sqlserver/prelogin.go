// Package sqlserver is SQL Server's wire (TDS) as far as rhizome speaks it: the PRELOGIN
// exchange that proves a server answers, the simulated server, and the door's refusal as a
// failed login. The door logs nobody in to SQL Server.
package sqlserver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

// TDS, the protocol of SQL Server ([MS-TDS]): every message travels in packets with an 8-byte
// header (type, status, big-endian length including the header, SPID, packet id, window). A
// client opens with a PRELOGIN packet; the server answers with a tabular-result packet carrying
// its own PRELOGIN option table (MS-TDS 2.2.6.5).
const (
	tdsPrelogin      = 0x12
	tdsTabularResult = 0x04
	tdsStatusEOM     = 0x01 // the last packet of its message
	tdsHeaderLen     = 8
	// tdsMaxPrelogin bounds a PRELOGIN packet: the default packet size before login.
	tdsMaxPrelogin = 4096
)

// PRELOGIN option tokens (MS-TDS 2.2.6.5).
const (
	plVersion    = 0x00 // UL_VERSION (major, minor, build big-endian) and US_SUBBUILD: 6 bytes
	plEncryption = 0x01 // one byte, see encryptionNames
	plInstOpt    = 0x02
	plThreadID   = 0x03
	plMARS       = 0x04
	plTerminator = 0xff
)

// ENCRYPTION values (MS-TDS 2.2.6.5).
const (
	encryptOff    = 0x00
	encryptNotSup = 0x02
)

var encryptionNames = map[byte]string{0: "off", 1: "on", 2: "not supported", 3: "required"}

// preloginOption is one entry of a PRELOGIN option table.
type preloginOption struct {
	token byte
	data  []byte
}

// Exchange sends a TDS PRELOGIN packet on conn and parses the server's reply (its header and
// option table), proving the whole chain works. It returns the version the server announces.
func Exchange(conn net.Conn) (string, error) {
	// Encryption off, as drivers ask by default: whatever the server's setting, it answers.
	hello := appendPrelogin(nil, tdsPrelogin, []preloginOption{
		{plVersion, make([]byte, 6)},
		{plEncryption, []byte{encryptOff}},
	})
	if _, err := conn.Write(hello); err != nil {
		return "", fmt.Errorf("%w: sending the SQL Server PRELOGIN: %v", wire.ErrNoGreeting, err)
	}
	return readPreloginReply(conn)
}

// appendPrelogin appends one TDS packet of type typ whose payload is the option table of opts,
// then their data.
func appendPrelogin(b []byte, typ byte, opts []preloginOption) []byte {
	table := 5*len(opts) + 1
	size := table
	for _, o := range opts {
		size += len(o.data)
	}
	p := make([]byte, 0, size)
	offset := table
	for _, o := range opts {
		p = append(p, o.token)
		p = binary.BigEndian.AppendUint16(p, uint16(offset))
		p = binary.BigEndian.AppendUint16(p, uint16(len(o.data)))
		offset += len(o.data)
	}
	p = append(p, plTerminator)
	for _, o := range opts {
		p = append(p, o.data...)
	}
	return appendPacket(b, typ, p)
}

// appendPreloginReply appends the PRELOGIN reply of a server announcing version
// major.minor.build that does not support encryption, as the simulated forward sends it.
func appendPreloginReply(b []byte, major, minor byte, build uint16) []byte {
	return appendPrelogin(b, tdsTabularResult, []preloginOption{
		{plVersion, []byte{major, minor, byte(build >> 8), byte(build), 0, 0}},
		{plEncryption, []byte{encryptNotSup}},
		{plInstOpt, []byte{0}},
		{plThreadID, nil},
		{plMARS, []byte{0}},
	})
}

// readTDSPacket reads one whole TDS packet of at most tdsMaxPrelogin bytes and returns its type
// and payload.
func readTDSPacket(r io.Reader) (byte, []byte, error) {
	var h [tdsHeaderLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		if wire.ClosedEarly(err) {
			return 0, nil, errors.New("the connection closed before the server spoke")
		}
		return 0, nil, err
	}
	size := int(binary.BigEndian.Uint16(h[2:4]))
	if size <= tdsHeaderLen || size > tdsMaxPrelogin || h[1]&tdsStatusEOM == 0 {
		return 0, nil, fmt.Errorf("a packet of type %#x, status %#x and %d bytes is no PRELOGIN", h[0], h[1], size)
	}
	payload := make([]byte, size-tdsHeaderLen)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	return h[0], payload, nil
}

// readPreloginReply reads the server's answer to a PRELOGIN and describes the server.
func readPreloginReply(r io.Reader) (string, error) {
	typ, payload, err := readTDSPacket(r)
	if err != nil {
		return "", fmt.Errorf("%w: no SQL Server PRELOGIN reply: %v", wire.ErrNoGreeting, err)
	}
	if typ != tdsTabularResult {
		return "", fmt.Errorf("%w: no SQL Server PRELOGIN reply: packet type %#x, want %#x (a server of another engine? check the database's engine in the config)", wire.ErrNoGreeting, typ, tdsTabularResult)
	}
	opts, err := parsePreloginOptions(payload)
	if err != nil {
		return "", fmt.Errorf("%w: the SQL Server PRELOGIN reply: %v", wire.ErrNoGreeting, err)
	}
	v := opts[plVersion]
	if len(v) != 6 {
		return "", fmt.Errorf("%w: the SQL Server PRELOGIN reply has no VERSION", wire.ErrNoGreeting)
	}
	desc := fmt.Sprintf("SQL Server %d.%d.%d", v[0], v[1], binary.BigEndian.Uint16(v[2:4]))
	if e := opts[plEncryption]; len(e) == 1 {
		if name, ok := encryptionNames[e[0]]; ok {
			desc += ", encryption " + name
		}
	}
	return desc, nil
}

// parsePreloginOptions reads a PRELOGIN payload: 5-byte entries (token, big-endian offset
// into the payload and length) up to the terminator, each pointing at its data.
func parsePreloginOptions(p []byte) (map[byte][]byte, error) {
	opts := map[byte][]byte{}
	for i := 0; ; i += 5 {
		if i >= len(p) {
			return nil, errors.New("the option table has no terminator")
		}
		if p[i] == plTerminator {
			return opts, nil
		}
		if i+5 > len(p) {
			return nil, errors.New("the option table is cut short")
		}
		offset, n := int(binary.BigEndian.Uint16(p[i+1:])), int(binary.BigEndian.Uint16(p[i+3:]))
		if offset < i+5 || offset+n > len(p) {
			return nil, fmt.Errorf("option %#x points at bytes %d to %d of %d", p[i], offset, offset+n, len(p))
		}
		opts[p[i]] = p[offset : offset+n]
	}
}
