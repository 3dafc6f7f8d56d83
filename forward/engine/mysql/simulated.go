package mysql

import "net"

// Simulate greets a client on c as the simulated forward's MySQL server, reads its handshake
// response, and answers it with an ERR saying nothing is behind the port, so that a client
// shows those words rather than "Lost connection". The probe (Exchange) reads the greeting
// only, and passes.
func Simulate(c net.Conn, connID uint32) {
	_ = refuse(c, AppendGreeting(nil, "8.0.0-rhizome-simulated", connID), errRefused, stateAct,
		"this is rhizome's simulated forward: no MySQL server behind it")
}
