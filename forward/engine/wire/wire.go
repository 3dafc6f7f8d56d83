// Package wire holds what every engine's wire package shares: the error that says a peer did
// not answer as a database would, and the words and login the front door hands an engine.
package wire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
)

// ErrNoGreeting means something took the connection but did not answer as a server of the
// forward's engine would: no MySQL greeting, no PostgreSQL answer to an SSLRequest, no SQL
// Server PRELOGIN reply. Through a port-forward that is what a dead pod side looks like: the
// stream opens, then closes.
var ErrNoGreeting = errors.New("engine: the database did not answer")

// ErrSilent means the server's side closed before a byte came: through a port-forward, a
// stream whose pod side is gone (the pod replaced, its proxy dead). It wraps ErrNoGreeting.
// The door marks the back end that gave it dead, so an opening that meets it may dial again
// (at most SilentRetries times) and reach the next back end, the client none the wiser.
var ErrSilent = fmt.Errorf("%w: the connection closed before the server spoke", ErrNoGreeting)

// SilentRetries bounds how often an opening dials again after ErrSilent.
const SilentRetries = 3

// ClosedEarly reports whether err means the peer closed before sending anything: an EOF, or
// a reset when it closed without reading what was sent.
func ClosedEarly(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// Refusal is what the front door tells a client it cannot serve, in the client's own
// protocol, before it closes the connection: why, and what to do.
type Refusal struct {
	// Message names the forward, its state and the reason, as `rhizome ps` says them, e.g.
	// "rhizome: na-prod/bookkeeper is reconnecting (attempt 7): the API server … does not answer".
	Message string
	// Hint is the fix, e.g. "check your network or VPN"; may be empty.
	Hint string
	// Transient is true when the forward may come back by itself (reconnecting), false when
	// someone must act (failed, needs a login, stopped, ended).
	Transient bool
}

// Text is the refusal in one line, for protocols with a single message field.
func (r Refusal) Text() string {
	if r.Hint == "" {
		return r.Message
	}
	return r.Message + ": " + r.Hint
}

// Dial connects to the database's side of the forward (a stream to the pod, the simulation's
// socket), waiting for the back end as the door does.
type Dial func(ctx context.Context) (net.Conn, error)

// Login is a login that the front door makes for the owner's clients that bring no password
// of their own.
type Login struct {
	// User is the database user the door logs in as; "" keeps the user the client names.
	User string
	// Password returns the password to log in with. fresh asks for a new one rather than the
	// one kept (the server rejected it). Its error's text is shown to the client: it names the
	// command and what it said.
	Password func(ctx context.Context, fresh bool) (string, error)
	// Source says where the password comes from, for hints: "password-command gcloud sql …".
	Source string
}
