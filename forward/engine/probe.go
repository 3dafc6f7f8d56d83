// Package engine is the door's one way to each database engine's wire: it picks, by the
// engine's name in env's table, the package that speaks it (mysql, postgres, sqlserver) and
// offers its probe, its simulated server, its refusal and its login. Each engine's package
// owns its whole wire; the static facts (ports, schemes, variables) are env's.
package engine

import (
	"context"
	"net"
	"time"

	"github.com/rhizome-dev/rhizome/env"
	"github.com/rhizome-dev/rhizome/forward/engine/mysql"
	"github.com/rhizome-dev/rhizome/forward/engine/postgres"
	"github.com/rhizome-dev/rhizome/forward/engine/sqlserver"
	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

// ErrNoGreeting means something took the connection but did not answer as a server of the
// forward's engine would (see wire.ErrNoGreeting).
var ErrNoGreeting = wire.ErrNoGreeting

// Wire is what the door needs of one engine.
type Wire struct {
	// Exchange is the first step of the engine's protocol on a connection made, proving that a
	// server answers; it returns what the server said about itself, for the log.
	Exchange func(conn net.Conn) (string, error)
	// Simulate plays the server's side of a client's first exchange, for the simulated forward.
	Simulate Server
	// Refuse tells the client on conn, in the engine's protocol, why the door cannot serve it
	// (reading first what the client must send before a server may answer), then returns;
	// the door closes conn. It is bounded by conn's deadline, which the door sets.
	Refuse func(conn net.Conn, r wire.Refusal) error
	// Open makes the session's opening between client and a server from dial, logging the
	// client in with l when it brings no password of its own and passing it through untouched
	// when it does. It returns the server's connection with the session established, to relay
	// as it is from then on. On error it has told the client why, in its protocol.
	Open func(ctx context.Context, client net.Conn, dial wire.Dial, l wire.Login) (net.Conn, error)
	// CheckLogin logs in on conn with l and says goodbye, so the server records no aborted
	// connection: the end-to-end check of a forward with a login. It returns what the server
	// said about itself.
	CheckLogin func(conn net.Conn, l wire.Login) (string, error)
}

// Server plays one engine's side of a client's first exchange on c, then returns: what the
// simulated forward answers with.
type Server func(c net.Conn, connID uint32)

// wires is each engine of env's table; a test checks that none is missing or incomplete.
//
// SQL Server's Open and CheckLogin are nil: the door logs nobody in to SQL Server (its
// logins are not done). Users of a Wire check Open and CheckLogin for nil and refuse a
// forward with a login of such an engine rather than relay it without one.
var wires = map[string]Wire{
	env.MySQL:     {Exchange: mysql.Exchange, Simulate: mysql.Simulate, Refuse: mysql.Refuse, Open: mysql.Open, CheckLogin: mysql.CheckLogin},
	env.Postgres:  {Exchange: postgres.Exchange, Simulate: postgres.Simulate, Refuse: postgres.Refuse, Open: postgres.Open, CheckLogin: postgres.CheckLogin},
	env.SQLServer: {Exchange: sqlserver.Exchange, Simulate: sqlserver.Simulate, Refuse: sqlserver.Refuse},
}

// For returns the wire of engine ("" is env.DefaultEngine). An engine without one gets the
// default's, but Request.validate refuses unknown engines before any connection is made.
func For(engine string) Wire {
	if w, ok := wires[engine]; ok {
		return w
	}
	return wires[env.DefaultEngine]
}

// Probe connects to addr and proves that a server of one engine answers there, through
// whatever chain leads to it. An error that wraps ErrNoGreeting means something answered, but
// not as the server would.
type Probe func(ctx context.Context, addr string) (string, error)

// ProbeFor returns the probe of engine ("" is env.DefaultEngine).
func ProbeFor(engine string) Probe {
	ex := For(engine).Exchange
	return func(ctx context.Context, addr string) (string, error) {
		conn, err := dialProbe(ctx, addr)
		if err != nil {
			return "", err
		}
		defer conn.Close()
		return ex(conn)
	}
}

// The probes of the engines, for tests and benchmarks that name one.
var (
	CheckGreeting  = ProbeFor(env.MySQL)
	CheckPostgres  = ProbeFor(env.Postgres)
	CheckSQLServer = ProbeFor(env.SQLServer)
)

// ProbeThrough proves, as the engine's probe does, that its server answers through a
// connection that dial makes (a stream to the pod, the simulation's socket).
func ProbeThrough(ctx context.Context, engine string, dial func(context.Context) (net.Conn, error)) (string, error) {
	conn, err := dial(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(probeDeadline(ctx))
	return For(engine).Exchange(conn)
}

// LoginThrough logs in with l through a connection that dial makes and says goodbye, as the
// engine's CheckLogin does; an engine without one is probed as ProbeThrough does.
func LoginThrough(ctx context.Context, engine string, dial func(context.Context) (net.Conn, error), l wire.Login) (string, error) {
	check := For(engine).CheckLogin
	if check == nil {
		return ProbeThrough(ctx, engine, dial)
	}
	conn, err := dial(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(probeDeadline(ctx))
	return check(conn, l)
}

// SimulatedServer returns the simulation's server for engine ("" is env.DefaultEngine).
func SimulatedServer(engine string) Server { return For(engine).Simulate }

// probeTimeout bounds one probe when ctx allows longer: a server that accepts and says nothing
// must not hold readiness for long.
const probeTimeout = 5 * time.Second

// probeDeadline is when a probe gives up: probeTimeout from now, or ctx's deadline if sooner.
func probeDeadline(ctx context.Context) time.Time {
	deadline := time.Now().Add(probeTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	return deadline
}

// dialProbe connects to addr with a deadline on the whole exchange.
func dialProbe(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(probeDeadline(ctx))
	return conn, nil
}
