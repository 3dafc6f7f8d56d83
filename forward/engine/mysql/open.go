package mysql

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

// Open makes the opening of a MySQL session between client and a server from dial, as the
// front door does for each connection it relays.
//
// It passes the server's greeting to the client without CLIENT_SSL (see greeting.forClient)
// and reads the client's handshake response. A response with auth data (the client's own
// password) goes to the server untouched, and the rest of the login, auth switches and all, is
// the relay's to carry. A response without, when l has a Password, is the door's to complete:
// it logs in as l.User (the client's user when that is "") with l's password, keeping the
// client's database, capabilities, character set and attributes; on the server's OK it sends
// the client that OK as the packet the client awaits (sequence 2, after the greeting and its
// response). When the server denies the kept password, Open asks l for a fresh one and tries
// once more on a new connection from dial.
//
// Open returns the server's connection, the session established, for the caller to relay and
// close. On error it has told the client why with an ERR packet, closed the server's
// connection, and leaves client to the caller; an error wraps wire.ErrNoGreeting when the
// server's side closed or spoke no MySQL. ctx bounds the whole opening: when it ends, both
// connections' deadlines are set to the past. No error or packet it makes holds a password.
func Open(ctx context.Context, client net.Conn, dial wire.Dial, l wire.Login) (net.Conn, error) {
	var stopper wire.Interrupter
	stop := context.AfterFunc(ctx, stopper.Interrupt)
	defer stop()
	stopper.Add(client)
	server, g, err := connect(ctx, dial, &stopper)
	if err != nil {
		// Greet first, as Refuse does, for the client to print the words as they are.
		code, state, message := uint16(errRefused), stateWait, "rhizome: "+err.Error()
		if se := (*serverError)(nil); errors.As(err, &se) {
			code, state, message = se.Code, se.State, se.Message // the server's own refusal
		}
		_ = refuse(client, AppendGreeting(nil, doorVersion, 0), code, state, message)
		return nil, err
	}
	o := opening{ctx: ctx, client: client, dial: dial, login: l, stopper: &stopper}
	conn, err := o.run(server, g)
	if !stop() && err == nil { // ctx ended as the opening did: the deadlines are in the past
		conn.Close()
		err = errors.New("mysql: the opening was cancelled")
	}
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w (%w)", err, context.Cause(ctx))
	}
	return conn, err
}

// opening is one Open after the server greeted.
type opening struct {
	ctx     context.Context
	client  net.Conn
	dial    wire.Dial
	login   wire.Login
	stopper *wire.Interrupter
	caps    uint32 // the client's, once it answered
}

// run greets the client with g, reads its response, and passes it through or logs in.
// It closes server unless it returns it.
func (o *opening) run(server net.Conn, g *greeting) (_ net.Conn, err error) {
	defer func() {
		if err != nil {
			server.Close()
		}
	}()
	if err := writePacket(o.client, 0, g.forClient()); err != nil {
		return nil, fmt.Errorf("mysql: greeting the client: %w", err)
	}
	_, raw, err := readPacket(o.client)
	if err != nil {
		return nil, fmt.Errorf("mysql: reading the client's handshake response: %w", err)
	}
	if isSSLRequest(raw) {
		o.tell(errHandshake, stateLink, "rhizome: the door takes no TLS: it listens on this machine only; connect without TLS (mariadb --skip-ssl, go-sql-driver tls=false)")
		return nil, errors.New("mysql: the client asked for TLS")
	}
	resp, err := parseResponse(raw)
	if err != nil {
		o.tell(errHandshake, stateLink, "rhizome: "+err.Error())
		return nil, err
	}
	o.caps = resp.caps
	if len(resp.auth) > 0 || o.login.Password == nil {
		// The client's own login: the server checks it against the greeting it sent.
		if err := writePacket(server, 1, raw); err != nil {
			o.tell(errRefused, stateLink, "rhizome: the server went away: "+err.Error())
			return nil, fmt.Errorf("mysql: passing the handshake response on: %w", err)
		}
		return server, nil
	}
	if o.login.User != "" {
		resp.user = o.login.User
	}
	resp.caps &^= clientSSL // the door's leg to the server has no TLS of its own either
	return o.logIn(server, g, resp)
}

// logIn logs the client in as resp.user with the login's password, once more with a fresh one
// if the server denies the kept one. It closes server unless it returns it.
func (o *opening) logIn(server net.Conn, g *greeting, resp *response) (net.Conn, error) {
	for fresh := false; ; fresh = true {
		password, err := o.login.Password(o.ctx, fresh)
		if err != nil {
			server.Close()
			o.tell(errAccessDenied, stateAccess, fmt.Sprintf("rhizome could not get the password for %s: %v", resp.user, err))
			return nil, fmt.Errorf("mysql: getting the password for %s: %w", resp.user, err)
		}
		ok, err := logIn(&packetConn{conn: server, seq: 1}, g, resp, password)
		if err == nil {
			if err := writePacket(o.client, 2, ok); err != nil {
				server.Close()
				return nil, fmt.Errorf("mysql: telling the client it is logged in: %w", err)
			}
			return server, nil
		}
		server.Close()
		var denied *serverError
		if errors.As(err, &denied) && denied.Code == errAccessDenied && !fresh {
			if server, g, err = connect(o.ctx, o.dial, o.stopper); err != nil {
				if se := (*serverError)(nil); errors.As(err, &se) {
					o.tell(se.Code, se.State, se.Message)
				} else {
					o.tell(errRefused, stateWait, "rhizome: "+err.Error())
				}
				return nil, err
			}
			continue
		}
		o.tellLoginFailed(err, resp.user, fresh)
		return nil, fmt.Errorf("mysql: logging in as %s: %w", resp.user, err)
	}
}

// tellLoginFailed tells the client why the door's login failed: the server's own words, with
// what rhizome did, since the client asked for no password and would not guess.
func (o *opening) tellLoginFailed(err error, user string, retried bool) {
	hint := "rhizome logged in as " + user + " with the password"
	if o.login.Source != "" {
		hint += " from " + o.login.Source
	}
	if retried {
		hint += ", then with a fresh one"
	}
	var se *serverError
	var pe errPlugin
	switch {
	case errors.As(err, &se):
		o.tell(se.Code, se.State, se.Message+": "+hint)
	case errors.As(err, &pe):
		o.tell(errPluginMissing, stateGeneral, pe.Error()+" (the server's user "+user+" needs it): bring your own password")
	default:
		o.tell(errRefused, stateLink, "rhizome: logging in as "+user+": "+err.Error())
	}
}

// tell sends the client, which has sent its handshake response (sequence 1), an ERR as the
// next packet. The SQLSTATE goes only to a client that speaks protocol 4.1.
func (o *opening) tell(code uint16, state, message string) {
	_ = writePacket(o.client, 2, appendErr(nil, code, stateFor(o.caps, state), message))
}

// connect dials a server and reads its greeting, dialling again when the server's side closes
// without a word (wire.ErrSilent). A server's ERR in place of a greeting comes back as a
// *serverError; anything else that is no greeting wraps wire.ErrNoGreeting.
func connect(ctx context.Context, dial wire.Dial, stopper *wire.Interrupter) (net.Conn, *greeting, error) {
	for tries := 0; ; tries++ {
		conn, g, err := connectOnce(ctx, dial, stopper)
		if !errors.Is(err, wire.ErrSilent) || tries >= wire.SilentRetries || ctx.Err() != nil {
			return conn, g, err
		}
		// A stream whose pod side is gone; the door has marked its back end dead, and the
		// next dial reaches the one that replaces it. The client has been sent nothing yet.
	}
}

// connectOnce is one try of connect.
func connectOnce(ctx context.Context, dial wire.Dial, stopper *wire.Interrupter) (net.Conn, *greeting, error) {
	conn, err := dial(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to the database: %w", err)
	}
	stopper.Add(conn)
	p, err := readFirstPacket(conn)
	if err == nil && p[0] == packetErr {
		err = parseErr(p)
	}
	var g *greeting
	if err == nil {
		if g, err = parseGreeting(p); err != nil {
			err = fmt.Errorf("%w: %w", wire.ErrNoGreeting, err)
		}
	}
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, g, nil
}
