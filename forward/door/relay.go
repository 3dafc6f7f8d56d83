package door

import (
	"io"
	"net"
	"sync/atomic"
)

// relayChunk is how much a relay moves between updates of the traffic figures. Each chunk is
// one io.Copy from an *io.LimitedReader of the source connection, which Go still hands to the
// kernel (splice on Linux) when both ends are sockets: the bytes never enter user space.
const relayChunk = 64 << 10

// pipe copies client↔backend until the database's side is done, counting the bytes in c. A
// client that closes its sending side (shutdown(SHUT_WR), nc -N) has the end passed on to the
// database and gets the whole answer however long it takes: the database decides when the
// session ends, and a client that has gone for good fails the next write to it.
func pipe(client, backend net.Conn, c *counters) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		copyCounting(backend, client, &c.bytesIn, c)
		closeWrite(backend)
	}()
	copyCounting(client, backend, &c.bytesOut, c)
	// The database ended the session: nothing more the client sends can matter.
	client.Close()
	backend.Close()
	<-done
}

func copyCounting(dst, src net.Conn, n *atomic.Int64, c *counters) {
	for {
		k, err := io.Copy(dst, &io.LimitedReader{R: src, N: relayChunk})
		if k > 0 {
			n.Add(k)
			c.touch()
		}
		if err != nil || k < relayChunk {
			return
		}
	}
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}
