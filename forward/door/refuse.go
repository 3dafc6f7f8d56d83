package door

import (
	"errors"
	"net"
	"time"
)

// hopelessWait is how long a client waits at the door of a forward that waiting will not
// bring back by itself (it failed, or needs a login): long enough for the try that its
// arrival asked for to prove otherwise (the user may just have logged in).
const hopelessWait = 3 * time.Second

// refuseWait bounds telling a client why it is refused: some engines' clients must speak
// first (PostgreSQL's startup, SQL Server's PRELOGIN), and one that never does is dropped.
const refuseWait = 5 * time.Second

// refuseWaitClosing is refuseWait once the door is closing.
const refuseWaitClosing = time.Second

// unserved is an error after which the client is told why in its engine's protocol: the
// forward could not serve it (not back within connect-wait, ended).
type unserved struct{ error }

func (u unserved) Unwrap() error { return u.error }

// refuse closes a connection the door could not serve because of err. When the forward is the
// reason (err is unserved), the client is first told what the forward is going through and
// the fix, in its engine's protocol, so the database client shows it; a client that left or
// broke the exchange is not.
func (d *Door) refuse(client net.Conn, err error) {
	var u unserved
	if !errors.As(err, &u) || d.wire.Refuse == nil {
		d.hooks.Logf("front door: closed a connection from %s: %v", peerName(client), err)
		return
	}
	r := d.hooks.Refusal()
	wait := refuseWait
	select {
	case <-d.closed:
		wait = refuseWaitClosing // Close waits for this: a silent client must not hold it long
	default:
	}
	_ = client.SetDeadline(time.Now().Add(wait))
	if werr := d.wire.Refuse(client, r); werr != nil {
		d.hooks.Logf("front door: closed a connection from %s: %v (telling it so failed: %v)", peerName(client), err, werr)
		return
	}
	d.hooks.Logf("front door: refused a connection from %s: %v; told it: %s", peerName(client), err, r.Text())
}
