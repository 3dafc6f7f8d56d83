package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/rhizome-dev/rhizome/env"
	"github.com/rhizome-dev/rhizome/forward"
	"github.com/rhizome-dev/rhizome/rpc"
)

func forwardCommand() *cli.Command {
	return &cli.Command{
		Name:      "forward",
		Usage:     "give a ready local port to a database of an environment and print its handle",
		ArgsUsage: "ENV DB [-- CMD ARGS…]",
		Description: `The agent runs the connection script in the environment's pod, opens a port-forward to it
(through a private kubectl proxy, so kubectl keeps the credentials), waits until the database
greets through the local port, and keeps the forward alive across pod
restarts and dropped connections. Asking again returns the same forward.

   rhizome forward na-prod bookkeeper              # mysql://127.0.0.1:3306
   rhizome forward --json na-prod bookkeeper       # the handle as JSON
   rhizome forward --port 3310 na-prod bookkeeper  # this port or an error
   rhizome forward --exec na-prod bookkeeper -- sh -c 'mysql -h 127.0.0.1 -P "$MYSQL_TCP_PORT"'
   rhizome forward --exec eu-prod ledger -- psql   # a postgres database: PGHOST, PGPORT
   mysql -S "$(rhizome forward --socket na-prod bookkeeper)"  # the private Unix socket
   psql -h "$(rhizome forward --socket eu-prod ledger)"       # postgres: the socket's directory
   rhizome forward --idle-timeout 2h na-prod bookkeeper     # stop it after 2 h unused

The agent holds the port (127.0.0.1 and ::1) and the socket for the forward's whole life, lets in
only your own user, and holds a connection made while the chain reconnects until it is back.

A first start fails at once, with the fix, on what retrying cannot fix (a context missing from the
kubeconfig, an expired login, a missing permission or name), and retries anything else for up to
--wait. Once ready, a forward never gives up by itself: ps shows it reconnecting (or needs-login)
until it is back, rhizome stop, its idle-timeout or max-age.

--exec sets DATABASE_URL and what the engine's own tools read: MYSQL_HOST, MYSQL_TCP_PORT and
MYSQL_UNIX_PORT (mysql), PGHOST=127.0.0.1 and PGPORT (postgres), SQLCMDSERVER (sqlserver).

--socket prints the socket's path, or for postgres its directory, which is what psql -h, PGHOST
and host= take: the socket in it is .s.PGSQL.PORT, PORT the handle's, so psql needs -p PORT
when that is not 5432.

With RHIZOME_SIMULATE=true no cluster is needed: a simulated forward answers as the database's
engine would on its first step.`,
		Flags: []cli.Flag{
			jsonFlag("print the handle as JSON (not with --socket or --exec)"),
			&cli.IntFlag{Name: "port", Usage: "pin the local `PORT` (an error when it is busy)", DefaultText: "the database's port, or the next free one"},
			&cli.BoolFlag{Name: "exec", Usage: "run the command after -- with DATABASE_URL and the engine's variables (MYSQL_TCP_PORT, PGPORT, …) set"},
			&cli.BoolFlag{Name: "socket", Usage: "print the path of the forward's private Unix socket (postgres: its directory, for psql -h) instead of the handle"},
			&cli.DurationFlag{Name: "idle-timeout", Usage: "stop the forward after `DURATION` with no open connection (0: never)", DefaultText: "the environment's idle-timeout, else never"},
			&cli.DurationFlag{Name: "max-age", Usage: "stop the forward `DURATION` after it started, used or not (0: never)", DefaultText: "the environment's max-age, else never"},
			&cli.DurationFlag{Name: "connect-wait", Usage: "how long a connection waits while the forward reconnects, up to `DURATION`", DefaultText: "the environment's connect-wait, else " + seconds(forward.DefaultConnectWait)},
			&cli.DurationFlag{Name: "wait", Usage: "how long to wait for the forward to be ready, up to `DURATION`", DefaultText: seconds(forward.DefaultWait)},
		},
		Action: runForward,
	}
}

func runForward(c *cli.Context) error {
	args := c.Args().Slice()
	var command []string
	for i, a := range args {
		if a == "--" {
			args, command = args[:i], args[i+1:]
			break
		}
	}
	if c.Bool("exec") {
		if len(args) > 2 && command == nil {
			args, command = args[:2], args[2:] // urfave/cli swallows the "--"
		}
		if len(command) == 0 {
			return usageErrorf("--exec needs a command after --: rhizome forward --exec ENV DB -- CMD ARGS…")
		}
	} else if command != nil {
		return usageErrorf("forward takes ENV DB; to run the command after -- with the handle, add --exec")
	} else if len(args) > 2 {
		return usageErrorf("forward takes ENV DB; %q is one too many (to run a command with the handle: --exec ENV DB -- CMD)", args[2])
	}
	if len(args) != 2 {
		return usageErrorf("forward takes ENV DB (see rhizome envs)")
	}
	if c.Bool("json") && (c.Bool("socket") || c.Bool("exec")) {
		return usageErrorf("--json prints the handle; --socket prints a path and --exec runs a command: choose one")
	}
	e, db, err := resolve(args[0], args[1])
	if err != nil {
		return err
	}
	h, err := forwardHandle(c, e, db)
	if err != nil {
		return err
	}
	if command != nil {
		return runWithHandle(c, h, command)
	}
	if c.Bool("socket") {
		return printSocket(c, h, e.Name+"/"+db.Name)
	}
	if c.Bool("json") {
		return writeJSON(c.App.Writer, h)
	}
	fmt.Fprintln(c.App.Writer, h.ConnectionString)
	return nil
}

// resolve finds the database dbName of the environment envName, each by name or alias, in the
// built-in environments and the user's config.
func resolve(envName, dbName string) (*env.Environment, *env.Database, error) {
	catalog, err := env.Load()
	if err != nil {
		return nil, nil, err
	}
	return catalog.Resolve(envName, dbName)
}

// forwardHandle asks the agent (started if none runs) for the forward of db of e, with the
// command's flags (--port, --idle-timeout, …, where the command has them) over the config, and
// waits until it is ready. It says on stderr what a person should know of the handle: a moved
// port, a simulation, the agent's notes, a missing socket. Ctrl-C gives the request up.
func forwardHandle(c *cli.Context, e *env.Environment, db *env.Database) (rpc.Handle, error) {
	p := env.ForwardParams(e, db)
	if c.IsSet("port") {
		if port := c.Int("port"); port < 1 || port > 65535 {
			return rpc.Handle{}, usageErrorf("--port %d: want 1 to 65535", port)
		}
		p.LocalPort, p.PinPort = c.Int("port"), true
	}
	if err := durationFlags(c, &p); err != nil {
		return rpc.Handle{}, err
	}
	client, err := dialOrStart(c)
	if err != nil {
		return rpc.Handle{}, err
	}
	defer client.Close()

	if err := answers(c, client); err != nil {
		return rpc.Handle{}, err
	}
	// The agent answers once the forward is ready or --wait is over; a hung agent, never.
	wait := time.Duration(p.Wait)
	if wait == 0 {
		wait = forward.DefaultWait
	}
	ctx, cancel := context.WithTimeout(c.Context, wait+answerTimeout)
	defer cancel()
	// Ctrl-C gives the request up at the agent too: a first start that no one else waits
	// for then stops, instead of retrying for the rest of --wait.
	ctx, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	stopProgress := showProgress(c, client, p.Name)
	h, err := client.Forward(ctx, p)
	stopProgress()
	if errors.Is(ctx.Err(), context.Canceled) && c.Context.Err() == nil {
		fmt.Fprintf(c.App.ErrWriter, "rhizome: interrupted: stopped waiting for %s (a first start stops when no one else waits for it)\n", p.Name)
		return rpc.Handle{}, exitCode(130)
	}
	if err != nil {
		return rpc.Handle{}, forwardHint(err)
	}
	if h.Moved {
		fmt.Fprintf(c.App.ErrWriter, "rhizome: port %d was busy; %s/%s is on port %d\n", db.LocalPort, e.Name, db.Name, h.LocalPort)
	}
	if h.Simulated {
		fmt.Fprintf(c.App.ErrWriter, "rhizome: %s/%s (simulated): no cluster or database behind it; a client gets the engine's first answer only%s\n", e.Name, db.Name, simulatedWhy(c))
	}
	for _, note := range h.Notes {
		fmt.Fprintf(c.App.ErrWriter, "rhizome: %s\n", note)
	}
	if h.UnixSocketError != "" {
		fmt.Fprintf(c.App.ErrWriter, "rhizome: warning: no Unix socket for %s/%s: %s\n", e.Name, db.Name, h.UnixSocketError)
	}
	return h, nil
}

// seconds spells a default duration as people write it: 60s, not 1m0s.
func seconds(d time.Duration) string { return fmt.Sprintf("%ds", int(d.Seconds())) }

// simulatedWhy says why a handle is simulated when the client did not ask for it.
func simulatedWhy(c *cli.Context) string {
	if env.SimulateRequested() {
		return ""
	}
	return "; the agent simulates every forward (it was started with " + env.VarSimulate + "=true): restart it without to forward for real"
}

// durationFlags puts --idle-timeout, --max-age, --connect-wait and --wait, where given, over
// the environment's settings.
func durationFlags(c *cli.Context, p *rpc.ForwardParams) error {
	for _, f := range []struct {
		name string
		dst  *rpc.Duration
	}{{"idle-timeout", &p.IdleTimeout}, {"max-age", &p.MaxAge}, {"connect-wait", &p.ConnectWait}, {"wait", &p.Wait}} {
		if !c.IsSet(f.name) {
			continue
		}
		d := c.Duration(f.name)
		if d < 0 || (d == 0 && (f.name == "connect-wait" || f.name == "wait")) {
			return usageErrorf("--%s %v: want a positive duration such as 90s or 2h", f.name, d)
		}
		*f.dst = rpc.Duration(d)
	}
	return nil
}

// forwardHint adds what to do next to the errors a person can act on.
func forwardHint(err error) error {
	switch {
	case errors.Is(err, rpc.ErrKubectlMissing):
		return fmt.Errorf("%v\n  or try the simulated cluster: RHIZOME_SIMULATE=true rhizome forward ENV DB", err)
	case errors.Is(err, rpc.ErrForwardFailed):
		return fmt.Errorf("%v\n  see rhizome logs for the whole story", err)
	}
	return err
}

// handleEngine is the engine the agent says h is of.
func handleEngine(h rpc.Handle) (env.Engine, error) {
	engine, err := env.LookupEngine(h.Engine)
	if err != nil {
		return env.Engine{}, fmt.Errorf("the agent's handle: %w (an agent of another version? restart it with rhizome agent -k)", err)
	}
	return engine, nil
}

// printSocket prints what a client of h's engine is given to reach its Unix socket: the path,
// or for PostgreSQL the directory that psql -h takes.
func printSocket(c *cli.Context, h rpc.Handle, name string) error {
	if h.UnixSocket == "" {
		return fmt.Errorf("%s has no Unix socket; use its TCP handle %s", name, h.ConnectionString)
	}
	engine, err := handleEngine(h)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, engine.SocketHost(h.UnixSocket))
	return nil
}

// runWithHandle runs command with the handle in its environment and returns its exit code.
func runWithHandle(c *cli.Context, h rpc.Handle, command []string) error {
	engine, err := handleEngine(h)
	if err != nil {
		return err
	}
	return runChild(c, command, engine.ExecEnv(h))
}

// runChild runs command in the foreground, with this process's environment and vars, and
// returns its exit status as rhizome's: the code it exited with, or 128+N when signal N
// killed it, as shells say. It behaves as if rhizome were not in between: the terminal's
// SIGINT and SIGQUIT reach the whole foreground group, command included, so rhizome only
// outlives them (caught, not ignored: an ignored signal would stay ignored in command), and a
// SIGTERM or SIGHUP sent to rhizome alone is passed on to command.
func runChild(c *cli.Context, command []string, vars []string) error {
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, c.App.Writer, c.App.ErrWriter
	cmd.Env = append(os.Environ(), vars...)
	signals := make(chan os.Signal, 4)
	// A signal this process was started with ignored (nohup's SIGHUP) stays so, and the child
	// inherits it ignored as it would run directly: catching it would reset it for the child.
	for _, sig := range []os.Signal{syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGHUP} {
		if !signal.Ignored(sig) {
			signal.Notify(signals, sig)
		}
	}
	defer signal.Stop(signals)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("running %s: %w", command[0], err)
	}
	done := make(chan struct{})
	relayed := make(chan struct{})
	go func() { // owned here: it ends with done, before runChild returns
		defer close(relayed)
		for {
			select {
			case sig := <-signals:
				if sig == syscall.SIGTERM || sig == syscall.SIGHUP {
					_ = cmd.Process.Signal(sig)
				}
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	<-relayed
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return exitCode(128 + int(ws.Signal()))
		}
		if code := exit.ExitCode(); code > 0 {
			return exitCode(code)
		}
		return exitCode(exitError)
	}
	if err != nil {
		return fmt.Errorf("running %s: %w", command[0], err)
	}
	return nil
}
