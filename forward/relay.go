package forward

import (
	"io"
	"net"
	"sync/atomic"
	"time"
)

// relayChunk is how much a relay moves between updates of the traffic figures. Each chunk is
// one io.Copy from an *io.LimitedReader of the source connection, which Go still hands to the
// kernel (splice on Linux) when both ends are sockets: the bytes never enter user space.
const relayChunk = 64 << 10

// halfCloseGrace is how long the database may still answer after a client has closed its
// sending side; then the relay ends, so a client that has gone cannot hold a relay open.
const halfCloseGrace = 2 * time.Second

// pipe copies client↔backend until the database's side is done, counting the bytes in c.
func pipe(client, backend net.Conn, c *counters) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		copyCounting(backend, client, &c.bytesIn, c)
		closeWrite(backend)
		_ = backend.SetReadDeadline(time.Now().Add(halfCloseGrace))
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
