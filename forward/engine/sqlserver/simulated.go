package sqlserver

import "net"

// Simulate answers a client's PRELOGIN packet with a server's reply, then returns: the
// simulation goes no further than TDS's first step.
func Simulate(c net.Conn, _ uint32) {
	typ, _, err := readTDSPacket(c)
	if err != nil || typ != tdsPrelogin {
		return
	}
	_, _ = c.Write(appendPreloginReply(nil, 16, 0, 1000))
}
