// Package wiretest is test support for the engines' wire tests: a tiny front door that opens
// each connection with an engine's Open and relays it, as the agent's door does, and a
// password source that records its calls.
package wiretest

import (
	"context"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/forward/engine/wire"
	"github.com/rhizome-dev/rhizome/forward/internal/loopback"
)

// Open is an engine's Open: it opens client's session through dial, logging in with l when
// the client brings no password, and returns the server's connection.
type Open func(ctx context.Context, client net.Conn, dial wire.Dial, l wire.Login) (net.Conn, error)

// Door plays the front door: each connection is opened with an engine's Open, dialing through
// dial, then relayed both ways until either side closes.
type Door struct {
	addr string
	mu   sync.Mutex
	errs []error // Open's errors, for the test to check
}

// StartDoor starts a door on a loopback port, or a Unix socket for network "unix", that
// opens its connections with open, dialing through dial and logging in with l, until the test
// ends.
func StartDoor(t testing.TB, network string, open Open, dial wire.Dial, l wire.Login) *Door {
	t.Helper()
	d := &Door{}
	ln := Listen(t, network)
	d.addr = ln.Addr().String()
	loopback.ServeOn(t, ln, func(c net.Conn) {
		// The opening ends with the test, or after 10s: an opening that hangs fails the test
		// rather than hanging it.
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		server, err := open(ctx, c, dial, l)
		cancel()
		if err != nil {
			d.mu.Lock()
			d.errs = append(d.errs, err)
			d.mu.Unlock()
			return
		}
		Relay(c, server)
	})
	return d
}

// Addr is the door's address: host and port, or the socket's path.
func (d *Door) Addr() string { return d.addr }

// Port is the port of a door on a loopback port.
func (d *Door) Port() string {
	_, port, _ := net.SplitHostPort(d.addr)
	return port
}

// Errors returns the errors Open returned so far.
func (d *Door) Errors() []error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]error(nil), d.errs...)
}

// Listen listens on a loopback port or, for network "unix", a socket, until the test ends.
// The socket is in a temporary directory of its own rather than t.TempDir, whose path, named
// after the test, may be too long for a socket's.
func Listen(t testing.TB, network string) net.Listener {
	t.Helper()
	address := "127.0.0.1:0"
	if network == "unix" {
		dir, err := os.MkdirTemp("", "sock")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		address = dir + "/sock"
	}
	ln, err := net.Listen(network, address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// Relay copies both ways until either side ends, then closes both.
func Relay(client, server net.Conn) {
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(server, client); done <- struct{}{} }()
	go func() { _, _ = io.Copy(client, server); done <- struct{}{} }()
	<-done
	client.Close()
	server.Close()
	<-done
}

// DialTo dials network address, as the door dials a forward's stream.
func DialTo(network, address string) wire.Dial {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, address)
	}
}

// Passwords is a login's password source: it answers Kept or, when asked for a fresh one,
// Fresh, and records its calls.
type Passwords struct {
	Kept, Fresh string
	Err         error // returned instead of a password when set

	mu    sync.Mutex
	calls []bool // fresh, per call
}

// Get is the login's Password.
func (p *Passwords) Get(_ context.Context, fresh bool) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, fresh)
	if p.Err != nil {
		return "", p.Err
	}
	if fresh {
		return p.Fresh, nil
	}
	return p.Kept, nil
}

// Calls returns the fresh argument of each call so far.
func (p *Passwords) Calls() []bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]bool(nil), p.calls...)
}

// Count returns how many calls there were, and how many of them asked for a fresh password.
func (p *Passwords) Count() (all, fresh int) {
	calls := p.Calls()
	for _, f := range calls {
		if f {
			fresh++
		}
	}
	return len(calls), fresh
}

// Login is a wire.Login as user with p's passwords, from source, a made-up password command
// that the hints name.
func (p *Passwords) Login(user, source string) wire.Login {
	return wire.Login{User: user, Password: p.Get, Source: source}
}
