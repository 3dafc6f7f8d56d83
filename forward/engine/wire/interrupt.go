package wire

import (
	"net"
	"sync"
	"time"
)

// Interrupter ends the blocking reads and writes of an opening's connections once its context
// is done (call Interrupt from context.AfterFunc), by giving each a deadline in the past. The
// zero value is ready; it is safe for concurrent use.
type Interrupter struct {
	mu    sync.Mutex
	conns []net.Conn
	done  bool
}

// longAgo is a deadline that has passed.
var longAgo = time.Unix(1, 0)

// Add has c interrupted with the others, at once if they were already, and returns it.
func (i *Interrupter) Add(c net.Conn) net.Conn {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.conns = append(i.conns, c)
	if i.done {
		_ = c.SetDeadline(longAgo)
	}
	return c
}

// Interrupt gives every connection added, and every one added later, a deadline in the past.
func (i *Interrupter) Interrupt() {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.done = true
	for _, c := range i.conns {
		_ = c.SetDeadline(longAgo)
	}
}
