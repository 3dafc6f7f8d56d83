package postgres

import (
	"net"

	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

// Simulate answers an SSLRequest with 'N' (no TLS here), and the startup message that follows,
// or one sent straight away, with a FATAL error saying nothing is behind the port: a refusal
// that no one can fix, as the simulation has no server.
func Simulate(c net.Conn, _ uint32) {
	_ = Refuse(c, wire.Refusal{Message: "this is rhizome's simulated forward: no PostgreSQL server behind it"})
}
