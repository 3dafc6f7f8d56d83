package door

import (
	"sync/atomic"
	"time"
)

// Traffic is a snapshot of what went through a forward's front door. Health checks go
// straight to the back end and are not counted: Traffic is use by people and programs.
type Traffic struct {
	Active   int   // connections open now, waiting for the back end or relayed
	Accepted int   // connections let in since the forward started
	Refused  int   // connections closed unread because they came from another user
	BytesIn  int64 // from clients towards the database
	BytesOut int64 // from the database back to clients
	// LastActivity is when a connection last opened, closed or moved data; zero if none yet.
	// While a connection is open, its bytes are counted every relayChunk and when it closes.
	LastActivity time.Time
}

// counters are the live figures behind Traffic, updated without a lock on the relay path.
type counters struct {
	active, accepted, refused atomic.Int64
	bytesIn, bytesOut         atomic.Int64
	last                      atomic.Int64 // UnixNano of LastActivity
}

func (c *counters) touch() { c.last.Store(time.Now().UnixNano()) }

func (c *counters) snapshot() Traffic {
	t := Traffic{
		Active: int(c.active.Load()), Accepted: int(c.accepted.Load()), Refused: int(c.refused.Load()),
		BytesIn: c.bytesIn.Load(), BytesOut: c.bytesOut.Load(),
	}
	if ns := c.last.Load(); ns != 0 {
		t.LastActivity = time.Unix(0, ns)
	}
	return t
}
