package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

// Open opens a session between client and a server from dial, logging the owner in with l.
//
// PostgreSQL asks for a password only after the startup has named the user, so the door
// cannot know whether the client brings one. It decides by the user instead:
//
//   - when l.User is "" or the startup names l.User, the door logs in: it sends the client's
//     startup as it came to the server, answers its request for a password (cleartext, MD5 or
//     SCRAM-SHA-256) with l.Password's, and on AuthenticationOk gives the client an
//     AuthenticationOk of its own and the server's connection to relay (ParameterStatus,
//     BackendKeyData, ReadyForQuery and the rest come from the server). A client that has a
//     password of its own is not asked for it;
//   - a startup naming another user, a CancelRequest and a startup of a protocol other than
//     3 go to the server untouched and the session is the client's: someone logging in as
//     another user answers the server's request for a password themselves.
//
// A request for a method the door does not answer (GSSAPI, SSPI, …) is passed to the client,
// which may answer it itself. The door answers an SSLRequest or a GSSENCRequest with 'N': it
// can give no encryption, and must read the startup; a client requiring encryption gives up.
//
// When the server rejects the kept password (28P01), Open asks l.Password for a fresh one
// and tries once more on a new connection; when that fails too, the client gets the server's
// error with rhizome's hint. When l.Password fails, the client gets its error's text. ctx
// bounds the opening: once it is done, reads and writes of the opening fail. The caller owns
// client and the returned connection; Open closes every other connection it made. No
// password reaches an error or a message to the client.
func Open(ctx context.Context, client net.Conn, dial wire.Dial, l wire.Login) (net.Conn, error) {
	conns := &wire.Interrupter{}
	stop := context.AfterFunc(ctx, conns.Interrupt)
	server, err := open(ctx, conns.Add(client), dial, l, conns)
	if !stop() && err == nil {
		// ctx ended as the opening did: its connections may have a deadline in the past.
		server.Close()
		return nil, ctx.Err()
	}
	return server, err
}

// open is Open, with conns to add the connections it dials to.
func open(ctx context.Context, client net.Conn, dial wire.Dial, l wire.Login, conns *wire.Interrupter) (net.Conn, error) {
	s, err := readClientStartup(client)
	if err != nil {
		return nil, fmt.Errorf("reading the client's startup: %w", err)
	}
	if s.cancel() || !s.protocol3() || (l.User != "" && s.param("user") != l.User) {
		return passThrough(ctx, client, dial, s, conns)
	}
	return logIn(ctx, client, dial, s, l, conns)
}

// passThrough sends s to a server from dial as it came, and leaves the rest to the client.
func passThrough(ctx context.Context, client net.Conn, dial wire.Dial, s startup, conns *wire.Interrupter) (net.Conn, error) {
	server, err := dial(ctx)
	if err != nil {
		tell(client, fatal(stateConnectionFailure, "rhizome could not reach the database: "+err.Error(), ""))
		return nil, err
	}
	if _, err := conns.Add(server).Write(s.raw); err != nil {
		server.Close()
		tell(client, fatal(stateConnectionFailure, "rhizome could not reach the database: "+err.Error(), ""))
		return nil, fmt.Errorf("sending the startup: %w", err)
	}
	return server, nil
}

// logIn logs the startup's user in with l's password: once with the kept one and, when the
// server rejects it, once more with a fresh one.
func logIn(ctx context.Context, client net.Conn, dial wire.Dial, s startup, l wire.Login, conns *wire.Interrupter) (net.Conn, error) {
	user := s.param("user")
	// What the server says before its requests goes to the client once, from the first try.
	early := func(m message) error {
		_, err := client.Write(appendMessage(nil, m.typ, m.body))
		return err
	}
	silent, fresh := 0, false
	for {
		server, err := dial(ctx)
		if err != nil {
			tell(client, fatal(stateConnectionFailure, "rhizome could not reach the database: "+err.Error(), ""))
			return nil, err
		}
		conns.Add(server)
		a := &authenticator{conn: server, user: user, early: early,
			password: func() (string, error) { return l.Password(ctx, fresh) }}
		if _, err = server.Write(s.raw); err == nil {
			err = a.run()
		}
		var unsupported *unsupportedAuth
		switch {
		case err == nil:
			if _, err := client.Write(appendMessage(nil, msgAuthentication, []byte{0, 0, 0, authOk})); err != nil {
				server.Close()
				return nil, fmt.Errorf("telling the client it is logged in: %w", err)
			}
			return server, nil
		case errors.As(err, &unsupported):
			// The client sent the same startup and waits for the server's first request.
			if _, err := client.Write(appendMessage(nil, msgAuthentication, unsupported.request.body)); err != nil {
				server.Close()
				return nil, err
			}
			return server, nil
		}
		server.Close()
		if errors.Is(err, wire.ErrSilent) && silent < wire.SilentRetries && ctx.Err() == nil {
			// A stream whose pod side is gone: the door has marked its back end dead, and the
			// next dial reaches the one that replaces it, sent the same startup.
			silent++
			continue
		}
		var refused *serverError
		if errors.As(err, &refused) && refused.fields.get('C') == stateInvalidPassword && a.usedPassword() && !fresh {
			early, fresh = nil, true
			continue
		}
		tell(client, loginFailure(err, user, l, fresh))
		return nil, fmt.Errorf("logging in as %q: %w", user, err)
	}
}

// loginFailure is what the client is told when the door's login failed with err.
func loginFailure(err error, user string, l wire.Login, fresh bool) fields {
	var refused *serverError
	var pwErr *passwordError
	switch {
	case errors.As(err, &refused):
		if refused.fields.get('C') != stateInvalidPassword {
			return refused.fields
		}
		source := l.Source
		if source == "" {
			source = "the forward's login"
		}
		again := ""
		if fresh {
			again = ", kept and fresh,"
		}
		hint := fmt.Sprintf("rhizome logged in as %q with the password%s from %s: check that it is this user's", user, again, source)
		if h := refused.fields.get('H'); h != "" {
			hint = h + "\n" + hint
		}
		return refused.fields.with('H', hint)
	case errors.As(err, &pwErr):
		return fatal(stateInvalidAuthorization, fmt.Sprintf("rhizome could not get the password to log %q in: %v", user, pwErr.err), "")
	case errors.Is(err, wire.ErrNoGreeting):
		return fatal(stateConnectionFailure, "rhizome: the database closed the connection before it answered", "")
	}
	return fatal(stateConnectionFailure, fmt.Sprintf("rhizome could not log %q in: %v", user, err), "")
}

// tell sends the client a FATAL error, as far as it can: the session ends either way.
func tell(client net.Conn, fs fields) {
	_, _ = client.Write(appendErrorResponse(nil, fs))
}
