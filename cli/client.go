package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/rhizome-dev/rhizome/env"
	"github.com/rhizome-dev/rhizome/rpc"
)

// answerTimeout bounds connecting to the agent and each request it answers at once (version,
// ps, logs, sleeper): a live agent answers in microseconds, so past this it is hung or stopped.
const answerTimeout = 3 * time.Second

// stopTimeout bounds a stop request, which the agent answers once the process has ended: SIGTERM,
// then SIGKILL after its grace period of 5 s.
const stopTimeout = 30 * time.Second

// answerContext bounds one request the agent answers at once.
func answerContext(c *cli.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Context, answerTimeout)
}

// answers checks, within answerTimeout, that the agent answers at all: before a request whose
// answer may legitimately take long (stop, forward), so that a hung agent is told quickly.
func answers(c *cli.Context, client *rpc.Client) error {
	ctx, cancel := answerContext(c)
	defer cancel()
	_, err := client.Version(ctx)
	return err
}

// agentHint adds the way out to an error about the agent that a person can act on.
func agentHint(err error) error {
	if errors.Is(err, rpc.ErrBadSocket) {
		return fmt.Errorf("%v\n  the socket comes from --%s, else $%s, else %s: point it at the agent's socket (rhizome agent prints it), or unset %s",
			err, agentSocketFlag, env.VarSock, env.DefaultSocket(), env.VarSock)
	}
	if errors.Is(err, rpc.ErrNotAnswering) {
		return fmt.Errorf("%v\n  stop it with: eval \"$(rhizome agent -k)\" (SIGTERM, then SIGKILL), then start one with: eval \"$(rhizome agent)\"", err)
	}
	return err
}

// socketPath is the socket a client command talks to (see env.ClientSocket). It reads the
// app's own --agent-socket, whose old spelling --socket forward's --socket (print the forward's
// Unix socket) would otherwise shadow.
func socketPath(c *cli.Context) string {
	return env.ClientSocket(appContext(c).String(agentSocketFlag))
}

// appContext is the context of the app's own flags: the outermost one with a command (the root
// command; urfave/cli puts an empty context above it).
func appContext(c *cli.Context) *cli.Context {
	app := c
	for _, l := range c.Lineage() {
		if l.Command != nil {
			app = l
		}
	}
	return app
}

// dial connects to the agent, or says which socket it tried and how to start an agent.
func dial(c *cli.Context) (*rpc.Client, error) {
	ctx, cancel := context.WithTimeout(c.Context, answerTimeout)
	defer cancel()
	client, err := rpc.Dial(ctx, socketPath(c))
	if errors.Is(err, rpc.ErrNoAgent) {
		return nil, fmt.Errorf("%v\n  start one with: eval \"$(rhizome agent)\"", err)
	}
	return client, err
}

// dialOrStart is dial for commands that need an agent to do their job (forward, sleeper): when
// none answers, it starts one at the socket, as gpg-agent does, and says so on stderr.
func dialOrStart(c *cli.Context) (*rpc.Client, error) {
	socket := socketPath(c)
	ctx, cancel := context.WithTimeout(c.Context, answerTimeout)
	defer cancel()
	client, err := rpc.Dial(ctx, socket)
	if !errors.Is(err, rpc.ErrNoAgent) {
		return client, err
	}
	v, started, err := ensureAgent(c.Context, socket)
	if err != nil {
		return nil, fmt.Errorf("no agent answered at %s and starting one failed: %w", socket, err)
	}
	if started {
		fmt.Fprintf(c.App.ErrWriter, "rhizome: started agent pid %d on %s (add eval \"$(rhizome agent)\" to your shell profile)\n", v.PID, socket)
	}
	// A fresh deadline: starting the agent may have used up the first one.
	ctx, cancel = context.WithTimeout(c.Context, answerTimeout)
	defer cancel()
	return rpc.Dial(ctx, socket)
}
