package postgres

import (
	"encoding/binary"
	"io"
	"net"
)

// Simulate answers an SSLRequest with 'N' (no TLS here), and the startup message that follows,
// or one sent straight away, with a FATAL error saying nothing is behind the port.
func Simulate(c net.Conn, _ uint32) {
	var msg [8]byte
	if _, err := io.ReadFull(c, msg[:]); err != nil {
		return
	}
	if isSSLRequest(msg[:]) {
		if _, err := c.Write([]byte{'N'}); err != nil {
			return
		}
		if _, err := io.ReadFull(c, msg[:]); err != nil {
			return
		}
	}
	// Read the rest of the startup message: closing with it unread would reset the
	// connection, and the client might lose the error.
	if n := binary.BigEndian.Uint32(msg[:4]); n > 8 && n < 1<<14 {
		_, _ = io.CopyN(io.Discard, c, int64(n-8))
	}
	_, _ = c.Write(appendFatal(nil, "08006", "this is rhizome's simulated forward: no PostgreSQL server behind it"))
}

// appendFatal appends an ErrorResponse of severity FATAL with SQLSTATE code and message.
func appendFatal(b []byte, code, message string) []byte {
	var fields []byte
	for _, f := range []struct {
		tag   byte
		value string
	}{{'S', "FATAL"}, {'V', "FATAL"}, {'C', code}, {'M', message}} {
		fields = append(append(append(fields, f.tag), f.value...), 0)
	}
	fields = append(fields, 0)
	b = append(b, 'E')
	b = binary.BigEndian.AppendUint32(b, uint32(4+len(fields)))
	return append(b, fields...)
}
