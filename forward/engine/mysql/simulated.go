package mysql

import "net"

// Simulate greets a client on c as the simulated forward's MySQL server, reads its handshake
// response, and answers it with an ERR saying nothing is behind the port, so that a client
// shows those words rather than "Lost connection". Closing with the response unread could
// reset the connection and lose the ERR.
func Simulate(c net.Conn, connID uint32) {
	if _, err := c.Write(AppendGreeting(nil, "8.0.0-rhizome-simulated", connID)); err != nil {
		return
	}
	_, raw, err := readPacket(c)
	if err != nil {
		return
	}
	var caps uint32
	if r, err := parseResponse(raw); err == nil {
		caps = r.caps
	}
	_ = writePacket(c, 2, appendErr(nil, errCantConnect, stateFor(caps, "08004"),
		"this is rhizome's simulated forward: no MySQL server behind it"))
}
