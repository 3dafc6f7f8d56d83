package postgres

import (
	"fmt"
	"net"

	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

// Refuse tells the client on conn why the door cannot serve it, as a server that cannot take
// the connection does: it answers any SSLRequest or GSSENCRequest with 'N', reads the startup
// and sends a FATAL ErrorResponse with r.Message as its message and r.Hint as its HINT, which
// psql and drivers show on a line of its own. Its SQLSTATE is 57P03 (cannot_connect_now, what
// a server starting up says) when r.Transient, so that clients and poolers that retry try
// again; otherwise 08006 (connection_failure). A CancelRequest gets no answer, as from a
// server. The caller closes conn and bounds Refuse with conn's deadline.
func Refuse(conn net.Conn, r wire.Refusal) error {
	s, err := readClientStartup(conn)
	if err != nil {
		return fmt.Errorf("reading the client's startup: %w", err)
	}
	if s.cancel() {
		return nil
	}
	state := stateConnectionFailure
	if r.Transient {
		state = stateCannotConnectNow
	}
	_, err = conn.Write(appendErrorResponse(nil, fatal(state, r.Message, r.Hint)))
	return err
}
