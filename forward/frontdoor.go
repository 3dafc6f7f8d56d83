package forward

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// frontDoor is one forward's local endpoint for the forward's whole life: its TCP port on
// 127.0.0.1 (and ::1 where the host has it) and its private Unix socket. The back end (the port-forward
// session's streams, or the simulation) comes and goes under it: a connection that arrives while the
// back end is down waits for it, up to connectWait, so a client never sees "connection refused"
// from a live forward and no other program can take the port while the chain reconnects.
//
// Only the owner's connections get in: every peer is checked before a byte is relayed.
//
// A frontDoor is made by openFrontDoor, serves once serve is called and ends with close. Its
// methods are safe for concurrent use.
type frontDoor struct {
	port        int
	listeners   []net.Listener // TCP, then the Unix socket if there is one
	unixPath    string         // "" when the socket could not be made (unixErr says why)
	unixErr     error
	owner       int          // the only uid let in
	connectWait atomic.Int64 // a time.Duration; changed live by a request that asks another

	// logf writes to the forward's lines (logfile, ps, logs); set before serve.
	logf func(format string, args ...any)
	// lostBackend is called, at most once per back end, when a relay cannot reach a back end
	// that was said to be up, so the chain can restart at once rather than at its next health
	// check.
	lostBackend func(reason string)
	// activeChanged is called after every change of the number of open connections.
	activeChanged func()
	// waiting is called when a client arrives while the back end is down, so that a
	// reconnecting chain tries now rather than at the end of its backoff.
	waiting func(reason string)

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

func (d *frontDoor) init() {
	d.closed = make(chan struct{})
	d.upc = make(chan struct{})
	d.open = map[*connPair]struct{}{}
	d.refused = refusals{owner: d.owner, every: refusalLogEvery, logf: func(format string, args ...any) { d.logf(format, args...) }}
}

// serve starts accepting on every listener.
func (d *frontDoor) serve() {
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

// up says the back end b is there and has answered as a database.
func (d *frontDoor) up(b Backend) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.backend = b
	d.gen++
	close(d.upc)
	d.upc = make(chan struct{})
}

// down says the back end is gone; new connections wait for the next up.
func (d *frontDoor) down() {
	d.mu.Lock()
	d.backend = nil
	d.mu.Unlock()
}

// close stops accepting, cuts every connection (reason goes to the log of each), removes the
// Unix socket and waits for every goroutine of the door. It returns how many connections it
// cut. Only the first call does anything.
func (d *frontDoor) close(reason string) (cut int) {
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
		p.client.Close()
		if p.backend != nil {
			p.backend.Close()
		}
	}
	d.wg.Wait()
	d.refused.close()
	return cut
}

func (d *frontDoor) acceptLoop(l net.Listener) {
	defer d.wg.Done()
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			d.logf("front door: accepting on %s: %v", l.Addr(), err)
			select {
			case <-d.closed:
				return
			case <-time.After(50 * time.Millisecond): // e.g. out of file descriptors: don't spin
			}
			continue
		}
		if !d.admit(c) {
			continue
		}
		d.wg.Add(1)
		go d.relay(c)
	}
}

// admit lets in the owner's connections and closes every other one, unread. Refusals are
// counted, and logged in summary (see refusals): another user decides how many there are.
func (d *frontDoor) admit(c net.Conn) bool {
	uid, err := peerUID(c)
	switch {
	case errors.Is(err, errPeerUnknowable):
		return true // the platform cannot tell: loopback and the socket's mode are the guard
	case err != nil:
		d.count.refused.Add(1)
		d.refused.add(uidUnknown, peerName(c), err.Error())
	case uid != d.owner:
		d.count.refused.Add(1)
		d.refused.add(uid, peerName(c), "")
	default:
		return true
	}
	c.Close()
	return false
}

// relay waits for a back end that answers, then copies both ways until either side is done.
func (d *frontDoor) relay(client net.Conn) {
	defer d.wg.Done()
	defer client.Close()
	d.count.accepted.Add(1)
	d.count.active.Add(1)
	d.count.touch()
	d.activeChanged()
	defer func() {
		d.count.active.Add(-1)
		d.count.touch()
		d.activeChanged()
	}()
	p := &connPair{client: client}
	if !d.track(p) {
		// Accepted just as the door closed (idle-timeout, max-age, stop): say why it goes.
		d.logf("front door: closed a connection from %s: the forward ended: %s", peerName(client), d.reason())
		return
	}
	defer d.untrack(p)

	backend, err := d.answeredBackend(p, time.Now().Add(d.connectWaitNow()))
	if err != nil {
		d.logf("front door: closed a connection from %s: %v", peerName(client), err)
		return
	}
	defer backend.Close()
	pipe(client, backend, &d.count)
}

// track registers p for close to cut; false when the door is closed already.
func (d *frontDoor) track(p *connPair) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.open == nil {
		return false
	}
	d.open[p] = struct{}{}
	return true
}

// reason is why the door closed; "" while it is open.
func (d *frontDoor) reason() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.why
}

func (d *frontDoor) untrack(p *connPair) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.open, p)
}

// setBackend makes c the back end close cuts for p; false when the door is closed already.
func (d *frontDoor) setBackend(p *connPair, c net.Conn) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.open == nil {
		return false
	}
	p.backend = c
	return true
}

// dialBackend connects to the live back end, waiting until deadline for one.
func (d *frontDoor) dialBackend(deadline time.Time) (net.Conn, int, error) {
	wait := time.NewTimer(time.Until(deadline))
	defer wait.Stop()
	asked := false
	for {
		d.mu.Lock()
		b, gen, upc, why := d.backend, d.gen, d.upc, d.why
		d.mu.Unlock()
		select {
		case <-d.closed:
			return nil, 0, fmt.Errorf("the forward ended: %s", why)
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
		if !asked && d.waiting != nil {
			asked = true
			d.waiting("a client is waiting at the front door")
		}
		select {
		case <-upc:
		case <-d.closed:
		case <-wait.C:
			return nil, 0, fmt.Errorf("the forward was not back within connect-wait %v", d.connectWaitNow())
		}
	}
}

// backendFailed takes down back end gen, which failed a relay, unless a newer one is up.
func (d *frontDoor) backendFailed(gen int, why string) {
	d.mu.Lock()
	stale := gen != d.gen || d.backend == nil
	if !stale {
		d.backend = nil
	}
	d.mu.Unlock()
	if !stale && d.lostBackend != nil {
		d.lostBackend(why)
	}
}

// connectWaitNow is how long a connection waits for a back end that is down.
func (d *frontDoor) connectWaitNow() time.Duration { return time.Duration(d.connectWait.Load()) }

// traffic returns the door's figures.
func (d *frontDoor) traffic() Traffic { return d.count.snapshot() }

func peerName(c net.Conn) string {
	if a := c.RemoteAddr(); a != nil && a.String() != "" && a.String() != "@" {
		return a.String()
	}
	return "the Unix socket"
}
