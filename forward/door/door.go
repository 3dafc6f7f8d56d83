// Package door is a forward's front door: its loopback TCP port and private Unix socket, the
// check that only the owner's connections get in, and the relay of each admitted connection
// to the back end of the moment, held while there is none. It knows nothing of Kubernetes: a
// Backend is anything that dials the database's side. The engines' wire (probes, refusals,
// logins) is forward/engine's; the door asks it, by the forward's engine, what to say.
package door

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rhizome-dev/rhizome/forward/engine"
	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

// Door is one forward's local endpoint for the forward's whole life: its TCP port on
// 127.0.0.1 (and ::1 where the host has it) and its private Unix socket. The back end (the port-forward
// session's streams, or the simulation) comes and goes under it: a connection that arrives while the
// back end is down waits for it, up to connectWait, so a client never sees "connection refused"
// from a live forward and no other program can take the port while the chain reconnects.
//
// Only the owner's connections get in: every peer is checked before a byte is relayed.
//
// A Door is made by Open, serves once Serve is called and ends with Close. Its methods are
// safe for concurrent use.
type Door struct {
	port        int
	listeners   []net.Listener // TCP, then the Unix socket if there is one
	unixPath    string         // "" when the socket could not be made (unixErr says why)
	unixErr     error
	owner       int          // the only uid let in
	connectWait atomic.Int64 // a time.Duration; changed live by a request that asks another

	hooks Hooks // set by Serve
	wire  engine.Wire
	login atomic.Pointer[wire.Login] // nil: the door logs nobody in

	count   counters
	refused refusals       // summarises refused connections for the log
	wg      sync.WaitGroup // accept loops and connections
	closed  chan struct{}  // closed by close

	mu      sync.Mutex
	backend Backend       // the live back end; nil while it is down
	gen     int           // counts back ends, so a stale failure cannot take down a new one
	upc     chan struct{} // closed at the next up
	why     string        // close's reason
	open    map[*connPair]struct{}
}

// connPair is one relayed connection, closed by its relay or cut by close. backend is nil
// until one is dialled; it is guarded by the door's mu.
type connPair struct{ client, backend net.Conn }

// Hooks are how a door tells its forward what happens at it. Every one must be set.
type Hooks struct {
	// Logf writes to the forward's lines (logfile, ps, logs).
	Logf func(format string, args ...any)
	// LostBackend is called, at most once per back end, when a relay cannot reach a back end
	// that was said to be up, so the chain can restart at once rather than at its next health
	// check.
	LostBackend func(reason string)
	// ActiveChanged is called after every change of the number of open connections.
	ActiveChanged func()
	// Waiting is called when a client arrives while the back end is down, so that a
	// reconnecting chain tries now rather than at the end of its backoff.
	Waiting func(reason string)
	// Refusal says what the forward is going through, as ps says it, for a client the door
	// cannot serve. One that is not Transient (failed, needs a login) holds a waiting client
	// only hopelessWait, not connect-wait.
	Refusal func() wire.Refusal
}

func (d *Door) init() {
	d.closed = make(chan struct{})
	d.upc = make(chan struct{})
	d.open = map[*connPair]struct{}{}
	d.refused = refusals{owner: d.owner, every: refusalLogEvery, logf: func(format string, args ...any) { d.hooks.Logf(format, args...) }}
}

// Serve starts accepting on every listener, telling h what happens.
func (d *Door) Serve(h Hooks) {
	d.hooks = h
	for _, l := range d.listeners {
		d.wg.Add(1)
		go d.acceptLoop(l)
	}
}

// Backend is what the door relays to: each Dial is one connection to the database's side (a
// stream pair to the pod, a connection to the simulation's private socket).
type Backend interface {
	Dial(ctx context.Context) (net.Conn, error)
	String() string // for the log
}

// backendDialWait bounds how long a back end may take to take a connection.
const backendDialWait = 5 * time.Second

// Up says the back end b is there and has answered as a database.
func (d *Door) Up(b Backend) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.backend = b
	d.gen++
	close(d.upc)
	d.upc = make(chan struct{})
}

// Down says the back end is gone; new connections wait for the next Up.
func (d *Door) Down() {
	d.mu.Lock()
	d.backend = nil
	d.mu.Unlock()
}

// Close stops accepting, cuts every connection (reason goes to the log of each), removes the
// Unix socket and waits for every goroutine of the door. It returns how many connections it
// cut. Only the first call does anything.
func (d *Door) Close(reason string) (cut int) {
	d.mu.Lock()
	select {
	case <-d.closed:
		d.mu.Unlock()
		return 0
	default:
	}
	d.why = reason
	close(d.closed)
	pairs := d.open
	d.open = nil
	d.mu.Unlock()
	cut = int(d.count.active.Load())
	for _, l := range d.listeners {
		l.Close() // the Unix socket's also removes its file, if still its own
	}
	for p := range pairs {
		if p.backend == nil {
			continue // still waiting for a back end: its relay tells it why, then closes it
		}
		p.client.Close()
		p.backend.Close()
	}
	d.wg.Wait()
	d.refused.close()
	return cut
}

func (d *Door) acceptLoop(l net.Listener) {
	defer d.wg.Done()
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			d.hooks.Logf("front door: accepting on %s: %v", l.Addr(), err)
			select {
			case <-d.closed:
				return
			case <-time.After(50 * time.Millisecond): // e.g. out of file descriptors: don't spin
			}
			continue
		}
		admitted, verified := d.admit(c)
		if !admitted {
			continue
		}
		d.wg.Add(1)
		go d.relay(c, verified)
	}
}

// admit lets in the owner's connections and closes every other one, unread. Refusals are
// counted, and logged in summary (see refusals): another user decides how many there are.
// verified says the kernel named the peer as the owner; only such a connection is logged in
// to the database by the door.
func (d *Door) admit(c net.Conn) (admitted, verified bool) {
	uid, err := peerUID(c)
	switch {
	case errors.Is(err, errPeerUnknowable):
		return true, false // the platform cannot tell: loopback and the socket's mode are the guard
	case err != nil:
		d.count.refused.Add(1)
		d.refused.add(uidUnknown, peerName(c), err.Error())
	case uid != d.owner:
		d.count.refused.Add(1)
		d.refused.add(uid, peerName(c), "")
	default:
		return true, true
	}
	c.Close()
	return false, false
}

// relay waits for a back end that answers, then copies both ways until either side is done.
// A client the door cannot serve is told why in its engine's protocol.
func (d *Door) relay(client net.Conn, verified bool) {
	defer d.wg.Done()
	defer client.Close()
	d.count.accepted.Add(1)
	d.count.active.Add(1)
	d.count.touch()
	d.hooks.ActiveChanged()
	defer func() {
		d.count.active.Add(-1)
		d.count.touch()
		d.hooks.ActiveChanged()
	}()
	p := &connPair{client: client}
	if !d.track(p) {
		// Accepted just as the door closed (idle-timeout, max-age, stop): say why it goes.
		d.refuse(client, unserved{fmt.Errorf("the forward ended: %s", d.reason())})
		return
	}
	defer d.untrack(p)

	deadline := time.Now().Add(d.ConnectWait())
	if l := d.login.Load(); l != nil && verified && d.wire.Open != nil {
		d.relayLoggedIn(p, deadline, *l)
		return
	}
	backend, err := d.answeredBackend(p, deadline)
	if err != nil {
		d.refuse(client, err)
		return
	}
	defer backend.Close()
	pipe(client, backend, &d.count)
}

// track registers p for close to cut; false when the door is closed already.
func (d *Door) track(p *connPair) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.open == nil {
		return false
	}
	d.open[p] = struct{}{}
	return true
}

// reason is why the door closed; "" while it is open.
func (d *Door) reason() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.why
}

func (d *Door) untrack(p *connPair) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.open, p)
}

// setBackend makes c the back end close cuts for p; false when the door is closed already.
func (d *Door) setBackend(p *connPair, c net.Conn) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.open == nil {
		return false
	}
	p.backend = c
	return true
}

// dialBackend connects to the live back end, waiting until deadline for one.
func (d *Door) dialBackend(deadline time.Time) (net.Conn, int, error) {
	wait := time.NewTimer(time.Until(deadline))
	defer wait.Stop()
	asked := false
	for {
		d.mu.Lock()
		b, gen, upc, why := d.backend, d.gen, d.upc, d.why
		d.mu.Unlock()
		select {
		case <-d.closed:
			return nil, 0, unserved{fmt.Errorf("the forward ended: %s", why)}
		default:
		}
		if b != nil {
			ctx, cancel := context.WithTimeout(context.Background(), backendDialWait)
			c, err := b.Dial(ctx)
			cancel()
			if err == nil {
				return c, gen, nil
			}
			d.backendFailed(gen, fmt.Sprintf("the back end refused a connection: %v", err))
			continue
		}
		if !asked {
			asked = true
			d.hooks.Waiting("a client is waiting at the front door")
			if !d.hooks.Refusal().Transient && time.Until(deadline) > hopelessWait {
				// Waiting will not help (failed, needs a login): the try just asked for gets
				// a moment to prove otherwise, then the client hears why.
				wait.Reset(hopelessWait)
			}
		}
		select {
		case <-upc:
		case <-d.closed:
		case <-wait.C:
			return nil, 0, unserved{fmt.Errorf("the forward was not back within connect-wait %v", d.ConnectWait())}
		}
	}
}

// backendFailed takes down back end gen, which failed a relay, unless a newer one is up.
func (d *Door) backendFailed(gen int, why string) {
	d.mu.Lock()
	stale := gen != d.gen || d.backend == nil
	if !stale {
		d.backend = nil
	}
	d.mu.Unlock()
	if !stale {
		d.hooks.LostBackend(why)
	}
}

// ConnectWait is how long a connection waits for a back end that is down.
func (d *Door) ConnectWait() time.Duration { return time.Duration(d.connectWait.Load()) }

// SetConnectWait changes ConnectWait for connections from now on.
func (d *Door) SetConnectWait(wait time.Duration) { d.connectWait.Store(int64(wait)) }

// Traffic returns the door's figures.
func (d *Door) Traffic() Traffic { return d.count.snapshot() }

// Port is the door's TCP port on loopback.
func (d *Door) Port() int { return d.port }

// UnixPath is the door's private socket; "" when it could not be made (UnixErr says why).
func (d *Door) UnixPath() string { return d.unixPath }

// UnixErr says why the door has no Unix socket; nil when it has one.
func (d *Door) UnixErr() error { return d.unixErr }

func peerName(c net.Conn) string {
	if a := c.RemoteAddr(); a != nil && a.String() != "" && a.String() != "@" {
		return a.String()
	}
	return "the Unix socket"
}
