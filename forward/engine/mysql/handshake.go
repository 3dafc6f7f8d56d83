package mysql

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// errMalformed means a handshake packet did not parse.
var errMalformed = errors.New("mysql: malformed handshake packet")

// greeting is the server's HandshakeV10, parsed as far as the door needs it. raw is the
// payload as the server sent it; the door passes it on with only capability bits changed,
// so that whatever else the server said (MariaDB's extended capabilities, its status) reaches
// the client untouched.
type greeting struct {
	raw      []byte
	version  string
	caps     uint32 // lower and upper capability flags
	charset  byte
	scramble []byte // auth-plugin-data, parts 1 and 2, without the trailing NUL
	plugin   string // "" when the server did not name one
	capsAt   int    // offset of the lower 2 bytes of caps in raw; the upper 2 are at capsAt+5
}

// parseGreeting parses a HandshakeV10 payload.
func parseGreeting(p []byte) (*greeting, error) {
	g := &greeting{raw: p}
	if len(p) < 1 || p[0] != mysqlProtocolV10 {
		return nil, fmt.Errorf("%w: not a protocol 10 greeting", errMalformed)
	}
	end := bytes.IndexByte(p[1:], 0)
	if end < 0 {
		return nil, fmt.Errorf("%w: greeting's version has no end", errMalformed)
	}
	g.version = string(p[1 : 1+end])
	pos := 1 + end + 1 + 4 // version, NUL, connection id
	if len(p) < pos+8+1+2 {
		return nil, fmt.Errorf("%w: greeting too short", errMalformed)
	}
	g.scramble = append(g.scramble, p[pos:pos+8]...)
	pos += 8 + 1
	g.capsAt = pos
	g.caps = uint32(binary.LittleEndian.Uint16(p[pos:]))
	pos += 2
	if len(p) < pos+1+2+2+1+10 {
		return g, nil // a pre-4.1 server: no more fields
	}
	g.charset = p[pos]
	pos += 1 + 2 // charset, status
	g.caps |= uint32(binary.LittleEndian.Uint16(p[pos:])) << 16
	pos += 2
	dataLen := int(p[pos])
	pos += 1 + 10 // auth-plugin-data length, reserved (MariaDB's extended caps in its last 4)
	if g.caps&clientSecureConnection != 0 {
		n := max(13, dataLen-8)
		if len(p) < pos+n {
			return nil, fmt.Errorf("%w: greeting's scramble cut short", errMalformed)
		}
		g.scramble = append(g.scramble, bytes.TrimRight(p[pos:pos+n], "\x00")...)
		pos += n
	}
	if g.caps&clientPluginAuth != 0 && pos < len(p) {
		name := p[pos:]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		g.plugin = string(name)
	}
	return g, nil
}

// forClient returns the greeting's payload with the capabilities the door can relay:
// without CLIENT_SSL, since the door reads the client's handshake response and has no
// certificate to offer (the client is on this machine, on loopback or a private socket).
// Every other capability is the server's own: the door passes the session through as it is,
// compression included, once the handshake is done.
func (g *greeting) forClient() []byte {
	p := bytes.Clone(g.raw)
	lower := binary.LittleEndian.Uint16(p[g.capsAt:])
	binary.LittleEndian.PutUint16(p[g.capsAt:], lower&^clientSSL)
	return p
}

// response is a client's HandshakeResponse41, split into its fields so that the door can log
// in with the client's own choices (database, character set, attributes) but its own user and
// auth data.
type response struct {
	caps      uint32
	maxPacket uint32
	charset   byte
	filler    [23]byte // MariaDB puts its extended capabilities in the last 4 bytes
	user      string
	auth      []byte
	database  string
	plugin    string
	attrs     []byte // the length-encoded block, as sent; nil without CLIENT_CONNECT_ATTRS
	rest      []byte // anything after, e.g. MySQL's zstd compression level
}

// isSSLRequest reports whether p is the short packet a client sends to start TLS.
func isSSLRequest(p []byte) bool {
	return len(p) == 32 && binary.LittleEndian.Uint32(p)&clientSSL != 0
}

// parseResponse parses a HandshakeResponse41 payload.
func parseResponse(p []byte) (*response, error) {
	if len(p) < 32 {
		return nil, fmt.Errorf("%w: handshake response too short", errMalformed)
	}
	r := &response{
		caps:      binary.LittleEndian.Uint32(p),
		maxPacket: binary.LittleEndian.Uint32(p[4:]),
		charset:   p[8],
	}
	if r.caps&clientProtocol41 == 0 {
		return nil, fmt.Errorf("%w: a pre-4.1 client", errMalformed)
	}
	copy(r.filler[:], p[9:32])
	rest := p[32:]
	var ok bool
	if r.user, rest, ok = cutNul(rest); !ok {
		return nil, fmt.Errorf("%w: user name has no end", errMalformed)
	}
	switch {
	case r.caps&clientPluginAuthLenenc != 0:
		n, size := readLenenc(rest)
		if size == 0 || uint64(len(rest)-size) < n {
			return nil, fmt.Errorf("%w: auth response cut short", errMalformed)
		}
		r.auth, rest = rest[size:size+int(n)], rest[size+int(n):]
	case r.caps&clientSecureConnection != 0:
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return nil, fmt.Errorf("%w: auth response cut short", errMalformed)
		}
		r.auth, rest = rest[1:1+int(rest[0])], rest[1+int(rest[0]):]
	default:
		var auth string
		if auth, rest, ok = cutNul(rest); !ok {
			return nil, fmt.Errorf("%w: auth response has no end", errMalformed)
		}
		r.auth = []byte(auth)
	}
	if r.caps&clientConnectWithDB != 0 {
		if r.database, rest, ok = cutNul(rest); !ok {
			return nil, fmt.Errorf("%w: database name has no end", errMalformed)
		}
	}
	if r.caps&clientPluginAuth != 0 && len(rest) > 0 {
		if r.plugin, rest, ok = cutNul(rest); !ok {
			return nil, fmt.Errorf("%w: plugin name has no end", errMalformed)
		}
	}
	if r.caps&clientConnectAttrs != 0 && len(rest) > 0 {
		n, size := readLenenc(rest)
		if size == 0 || uint64(len(rest)-size) < n {
			return nil, fmt.Errorf("%w: connection attributes cut short", errMalformed)
		}
		r.attrs, rest = rest[:size+int(n)], rest[size+int(n):]
	}
	r.rest = rest
	return r, nil
}

// appendTo appends r as a HandshakeResponse41 payload. The auth data is length-encoded when
// the client said it could be, else prefixed by one length byte (CLIENT_SECURE_CONNECTION,
// which appendTo then sets); the door never sends it NUL-terminated, since a scramble can hold
// a NUL.
func (r *response) appendTo(b []byte) []byte {
	caps := r.caps
	if caps&clientPluginAuthLenenc == 0 {
		caps |= clientSecureConnection
	}
	if r.plugin != "" {
		caps |= clientPluginAuth
	}
	b = binary.LittleEndian.AppendUint32(b, caps)
	b = binary.LittleEndian.AppendUint32(b, r.maxPacket)
	b = append(b, r.charset)
	b = append(b, r.filler[:]...)
	b = append(append(b, r.user...), 0)
	if caps&clientPluginAuthLenenc != 0 {
		b = appendLenenc(b, uint64(len(r.auth)))
	} else {
		b = append(b, byte(len(r.auth)))
	}
	b = append(b, r.auth...)
	if caps&clientConnectWithDB != 0 {
		b = append(append(b, r.database...), 0)
	}
	if caps&clientPluginAuth != 0 {
		b = append(append(b, r.plugin...), 0)
	}
	if caps&clientConnectAttrs != 0 && r.attrs != nil {
		b = append(b, r.attrs...)
	}
	return append(b, r.rest...)
}

// cutNul splits b at its first NUL.
func cutNul(b []byte) (string, []byte, bool) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return "", b, false
	}
	return string(b[:i]), b[i+1:], true
}

// readLenenc reads a length-encoded integer; size is 0 when b does not hold one.
func readLenenc(b []byte) (n uint64, size int) {
	if len(b) == 0 {
		return 0, 0
	}
	switch {
	case b[0] < 0xfb:
		return uint64(b[0]), 1
	case b[0] == 0xfc && len(b) >= 3:
		return uint64(binary.LittleEndian.Uint16(b[1:])), 3
	case b[0] == 0xfd && len(b) >= 4:
		return uint64(b[1]) | uint64(b[2])<<8 | uint64(b[3])<<16, 4
	case b[0] == 0xfe && len(b) >= 9:
		return binary.LittleEndian.Uint64(b[1:]), 9
	}
	return 0, 0
}

// appendLenenc appends n as a length-encoded integer.
func appendLenenc(b []byte, n uint64) []byte {
	switch {
	case n < 0xfb:
		return append(b, byte(n))
	case n < 1<<16:
		return binary.LittleEndian.AppendUint16(append(b, 0xfc), uint16(n))
	case n < 1<<24:
		return append(b, 0xfd, byte(n), byte(n>>8), byte(n>>16))
	}
	return binary.LittleEndian.AppendUint64(append(b, 0xfe), n)
}
