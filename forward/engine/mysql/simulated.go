package mysql

import "net"

// Simulate greets a client on c as the simulated forward's MySQL server, then waits until the
// client answers or goes: the simulation serves nothing more.
func Simulate(c net.Conn, connID uint32) {
	if _, err := c.Write(AppendGreeting(nil, "8.0.0-rhizome-simulated", connID)); err != nil {
		return
	}
	_, _ = c.Read(make([]byte, 1))
}
