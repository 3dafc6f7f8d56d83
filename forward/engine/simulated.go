package engine

import (
	"encoding/binary"
	"io"
	"net"

	"github.com/rhizome-dev/rhizome/env"
)

// Server plays one engine's side of a client's first exchange on c, then returns: what the
// simulated forward answers with.
type Server func(c net.Conn, connID uint32)

// simulatedServers speak the first step of each engine in env's table; a test checks that
// none is missing.
var simulatedServers = map[string]Server{
	env.MySQL:     greetMySQL,
	env.Postgres:  answerPostgres,
	env.SQLServer: answerPrelogin,
}

func greetMySQL(c net.Conn, connID uint32) {
	if _, err := c.Write(AppendGreeting(nil, "8.0.0-rhizome-simulated", connID)); err != nil {
		return
	}
	_, _ = c.Read(make([]byte, 1)) // until the client answers or goes
}

// answerPostgres answers an SSLRequest with 'N' (no TLS here), and the startup message that
// follows, or one sent straight away, with a FATAL error saying nothing is behind the port.
func answerPostgres(c net.Conn, _ uint32) {
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
	_, _ = c.Write(appendPgFatal(nil, "08006", "this is rhizome's simulated forward: no PostgreSQL server behind it"))
}

// appendPgFatal appends an ErrorResponse of severity FATAL with SQLSTATE code and message.
func appendPgFatal(b []byte, code, message string) []byte {
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

// answerPrelogin answers a client's PRELOGIN packet with a server's reply, then closes: the
// simulation goes no further than TDS's first step.
func answerPrelogin(c net.Conn, _ uint32) {
	typ, _, err := readTDSPacket(c)
	if err != nil || typ != tdsPrelogin {
		return
	}
	_, _ = c.Write(appendPreloginReply(nil, 16, 0, 1000))
}

// SimulatedServer returns the simulation's server for engine ("" is env.DefaultEngine).
func SimulatedServer(engine string) Server {
	if s, ok := simulatedServers[engine]; ok {
		return s
	}
	return simulatedServers[env.DefaultEngine]
}
