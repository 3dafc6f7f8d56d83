package door

import (
	"context"
	"errors"
	"io"
	"net"
	"time"

	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

// Login is the login the door makes; nil when none.
func (d *Door) Login() *wire.Login { return d.login.Load() }

// SetLogin changes the login the door makes from the next connection on; nil stops it.
func (d *Door) SetLogin(l *wire.Login) { d.login.Store(l) }

// loginWait bounds a session's opening with a login: the password command's own timeout,
// and the exchanges with the server on either side of it.
const loginWait = 45 * time.Second

// relayLoggedIn opens p's session with the engine's login (the client bringing no password
// is logged in; one that brings its own passes), then relays it. The back end is dialled
// first, so a forward that cannot serve the client tells it why before a byte is read; the
// engine dials again only for a fresh password, which needs a fresh server connection.
func (d *Door) relayLoggedIn(p *connPair, deadline time.Time, l wire.Login) {
	first, gen, err := d.dialBackend(deadline)
	if err != nil {
		d.refuse(p.client, err)
		return
	}
	if !d.setBackend(p, first) {
		first.Close()
		return
	}
	dial := func(ctx context.Context) (net.Conn, error) {
		if c := first; c != nil {
			first = nil
			return d.watchSilence(c, gen), nil
		}
		c, g, err := d.dialBackend(time.Now().Add(d.ConnectWait()))
		if err != nil {
			return nil, err
		}
		if !d.setBackend(p, c) {
			c.Close()
			return nil, errors.New("the forward ended")
		}
		return d.watchSilence(c, g), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), loginWait)
	defer cancel()
	server, err := d.wire.Open(ctx, p.client, dial, l)
	if err != nil { // a back end gone silent was taken down by watchSilence as it was met
		d.hooks.Logf("front door: closed a connection from %s: %v", peerName(p.client), err)
		return
	}
	defer server.Close()
	_ = server.SetDeadline(time.Time{})
	_ = p.client.SetDeadline(time.Time{})
	d.count.touch()
	pipe(p.client, server, &d.count)
}

// watchSilence returns c, which back end gen gave, such that when it ends before its first
// byte (the pod side of the stream is gone) that back end is taken down at once: the
// engine's opening then dials again and waits for the next one, as answeredBackend does for
// a connection without a login.
func (d *Door) watchSilence(c net.Conn, gen int) net.Conn {
	return &silenceWatch{Conn: c, silent: func() { d.backendFailed(gen, errSilentBackend.Error()) }}
}

// silenceWatch is a back end's connection that reports an end before its first byte.
type silenceWatch struct {
	net.Conn
	spoke  bool
	silent func()
}

func (w *silenceWatch) Read(b []byte) (int, error) {
	n, err := w.Conn.Read(b)
	if n > 0 {
		w.spoke = true
	} else if !w.spoke && (errors.Is(err, io.EOF) || isConnFailure(err)) {
		w.spoke = true // report once
		w.silent()
	}
	return n, err
}

// CloseWrite passes a client's end of sending on to the database, as the relay does for a
// connection without a login.
func (w *silenceWatch) CloseWrite() error {
	if cw, ok := w.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
