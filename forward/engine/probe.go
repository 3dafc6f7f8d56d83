// Package engine is each database engine's wire, as far as rhizome speaks it: the first step
// of its protocol that proves a server answers through a chain (MySQL's greeting, PostgreSQL's
// answer to an SSLRequest, SQL Server's PRELOGIN reply), and the simulated server that answers
// in its place. The static facts (ports, schemes, variables) are env's.
package engine

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/rhizome-dev/rhizome/env"
)

// ErrNoGreeting means something took the connection but did not answer as a server of the
// forward's engine would: no MySQL greeting, no PostgreSQL answer to an SSLRequest, no SQL
// Server PRELOGIN reply. Through kubectl port-forward that is what a dead pod side looks like:
// kubectl accepts, then closes.
var ErrNoGreeting = errors.New("engine: the database did not answer")

// Probe connects to addr and proves that a server of one engine answers there, through
// whatever chain leads to it, with the first step of the engine's protocol. It returns what the
// server said about itself, for the log. An error that wraps ErrNoGreeting means something
// answered, but not as the server would.
type Probe func(ctx context.Context, addr string) (string, error)

// probes is the probe of each engine in env's table; a test checks that none is missing.
var probes = map[string]Probe{
	env.MySQL:     CheckGreeting,
	env.Postgres:  CheckPostgres,
	env.SQLServer: CheckSQLServer,
}

// exchange is a probe's part once connected: the first step of the engine's protocol on conn.
type exchange func(conn net.Conn) (string, error)

// exchanges is each engine's exchange, as probes is its probe.
var exchanges = map[string]exchange{
	env.MySQL:     greetingOf,
	env.Postgres:  sslAnswerOf,
	env.SQLServer: preloginReplyOf,
}

// probeAddr runs ex on a TCP connection to addr.
func probeAddr(ctx context.Context, addr string, ex exchange) (string, error) {
	conn, err := dialProbe(ctx, addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	return ex(conn)
}

// ProbeThrough proves, as the engine's probe does, that its server answers through a
// connection that dial makes (a stream to the pod, the simulation's socket).
func ProbeThrough(ctx context.Context, engine string, dial func(context.Context) (net.Conn, error)) (string, error) {
	if engine == "" {
		engine = env.DefaultEngine
	}
	ex, ok := exchanges[engine]
	if !ok {
		ex = exchanges[env.DefaultEngine]
	}
	conn, err := dial(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(probeDeadline(ctx))
	return ex(conn)
}

// probeDeadline is when a probe gives up: probeTimeout from now, or ctx's deadline if sooner.
func probeDeadline(ctx context.Context) time.Time {
	deadline := time.Now().Add(probeTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	return deadline
}

// ProbeFor returns the probe of engine ("" is env.DefaultEngine). An engine without one gets
// the default's, but Request.validate refuses unknown engines before any probe runs.
func ProbeFor(engine string) Probe {
	if engine == "" {
		engine = env.DefaultEngine
	}
	if p, ok := probes[engine]; ok {
		return p
	}
	return probes[env.DefaultEngine]
}

// probeTimeout bounds one probe when ctx allows longer: a server that accepts and says nothing
// must not hold readiness for long.
const probeTimeout = 5 * time.Second

// dialProbe connects to addr with a deadline on the whole exchange: probeTimeout, or ctx's
// deadline when sooner.
func dialProbe(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(probeDeadline(ctx))
	return conn, nil
}

// closedEarly reports whether err means the peer closed before sending anything: an EOF, or
// a reset when it closed without reading what the probe sent.
func closedEarly(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}
