package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/rhizome-dev/rhizome/agent"
	"github.com/rhizome-dev/rhizome/env"
	"github.com/rhizome-dev/rhizome/rpc"
)

func agentCommand() *cli.Command {
	return &cli.Command{
		Name:  "agent",
		Usage: "start the agent (or find the running one) and print shell lines that point clients at it",
		Description: `Put this in your shell profile, as you would ssh-agent:

   eval "$(rhizome agent)"

With an agent already answering on the socket, its variables are printed and nothing starts.
Otherwise an agent starts in the background, detached from the shell.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "a", Usage: "listen on `SOCKET` instead of the default"},
			&cli.BoolFlag{Name: "c", Usage: "print csh syntax"},
			&cli.BoolFlag{Name: "s", Usage: "print Bourne shell syntax"},
			&cli.BoolFlag{Name: "fish", Usage: "print fish syntax"},
			&cli.BoolFlag{Name: "q", Usage: "quiet: leave out the echo line"},
			&cli.BoolFlag{Name: "k", Usage: "kill the agent named by $RHIZOME_AGENT_PID or the socket, and print lines that unset the variables"},
			&cli.BoolFlag{Name: "D", Usage: "run in the foreground, logging to stderr as well as the logfile"},
			&cli.BoolFlag{Name: "daemon", Hidden: true},
		},
		Action: runAgent,
	}
}

func runAgent(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErrorf("agent takes no arguments, got %q", c.Args().First())
	}
	sh := shellFromEnv()
	switch {
	case c.Bool("c"):
		sh = cshSyntax
	case c.Bool("fish"):
		sh = fishSyntax
	case c.Bool("s"):
		sh = shSyntax
	}
	socket := c.String("a")
	if socket == "" {
		socket = env.DefaultSocket()
	}
	socket, err := filepath.Abs(socket)
	if err != nil {
		return err
	}
	if err := checkPrintablePath(sh, socket); err != nil {
		return err
	}
	switch {
	case c.Bool("k"):
		return killAgent(c, sh)
	case c.Bool("daemon"):
		return serveAgent(c, socket, false)
	case c.Bool("D"):
		return serveAgent(c, socket, true)
	}
	v, _, err := ensureAgent(c.Context, socket)
	if err != nil {
		return err
	}
	warnOnSkew(c, v)
	// The path we chose and checked, never the one the agent reports: what a peer says is not
	// pasted into shell code.
	printAgentVars(c.App.Writer, sh, socket, v.PID, c.Bool("q"))
	return nil
}

// warnOnSkew tells the user, on stderr, when the running agent comes from another rhizome
// release: after an upgrade, the old agent keeps running until restarted.
func warnOnSkew(c *cli.Context, v rpc.VersionResult) {
	switch {
	case v.Protocol != rpc.ProtocolVersion:
		fmt.Fprintf(c.App.ErrWriter, "rhizome: agent pid %d speaks protocol %d, this rhizome speaks %d: restart it with rhizome agent -k, then eval \"$(rhizome agent)\"\n",
			v.PID, v.Protocol, rpc.ProtocolVersion)
	case v.Version != Version:
		fmt.Fprintf(c.App.ErrWriter, "rhizome: agent pid %d runs rhizome %s, this is rhizome %s: restart it with rhizome agent -k, then eval \"$(rhizome agent)\"\n",
			v.PID, v.Version, Version)
	}
}

// serveAgent runs the daemon in this process until a signal or a shutdown request.
func serveAgent(c *cli.Context, socket string, foreground bool) error {
	cfg := agent.Config{
		Socket: socket,
		// The default directory is rhizome's own, so it must be private; a directory the user
		// named with -a is theirs to choose (as with ssh-agent -a).
		StrictDir: socket == env.DefaultSocket(),
		LogFile:   env.LogFile(),
		Version:   Version,
	}
	if foreground {
		cfg.Stderr = c.App.ErrWriter
	}
	if err := agentSettings(&cfg); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(c.Context, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer stop()
	a, err := agent.Start(cfg)
	if !foreground {
		reportReady(err)
	}
	if err != nil {
		return err
	}
	if foreground {
		printAgentVars(c.App.Writer, shellFromEnv(), socket, os.Getpid(), c.Bool("q"))
	}
	select {
	case <-ctx.Done():
	case <-a.ShutdownRequested():
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	return a.Shutdown(ctx)
}

// shutdownTimeout bounds the agent's graceful shutdown, after which it kills what is left.
const shutdownTimeout = 30 * time.Second

// killTimeout bounds waiting for an agent to stop its children and exit.
const killTimeout = 45 * time.Second

// killAgent stops the agent at the socket (or $RHIZOME_AGENT_PID) and prints the unset lines.
func killAgent(c *cli.Context, sh shellSyntax) error {
	socket := c.String("a")
	if socket == "" {
		socket = socketPath(c)
	}
	ctx, cancel := context.WithTimeout(c.Context, killTimeout)
	defer cancel()
	pid, err := shutdownAt(ctx, socket)
	if errors.Is(err, rpc.ErrNoAgent) {
		pid, err = signalAgentPID(ctx)
	}
	if err != nil {
		return err
	}
	printUnsetVars(c.App.Writer, sh, pid, c.Bool("q"))
	return nil
}

// shutdownAt asks the agent at socket to shut down and waits until it has: the agent closes
// client connections only after its children are gone and the socket is removed.
func shutdownAt(ctx context.Context, socket string) (int, error) {
	client, err := rpc.Dial(ctx, socket)
	if err != nil {
		return 0, err
	}
	defer client.Close()
	v, err := client.Version(ctx)
	if err != nil {
		return 0, err
	}
	if err := client.Shutdown(ctx); err != nil {
		return 0, err
	}
	select {
	case <-client.Done():
		return v.PID, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("agent pid %d did not stop within %v", v.PID, killTimeout)
	}
}

// signalAgentPID is the fallback when nothing answers on the socket: SIGTERM to
// $RHIZOME_AGENT_PID, if that process is a rhizome agent.
func signalAgentPID(ctx context.Context) (int, error) {
	raw := os.Getenv(env.VarAgentPID)
	if raw == "" {
		return 0, errors.New("no agent to kill: nothing answers on the socket and RHIZOME_AGENT_PID is not set")
	}
	pid, err := strconv.Atoi(raw)
	if err != nil || pid <= 1 {
		return 0, fmt.Errorf("RHIZOME_AGENT_PID=%q is not a pid", raw)
	}
	argv, err := processArgs(pid)
	if err != nil {
		return 0, fmt.Errorf("no agent to kill: process %d (RHIZOME_AGENT_PID) is gone", pid)
	}
	if !isAgentCommand(argv) {
		return 0, fmt.Errorf("process %d (RHIZOME_AGENT_PID) is not a rhizome agent: not killing it", pid)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return 0, fmt.Errorf("killing agent pid %d: %w", pid, err)
	}
	for syscall.Kill(pid, 0) == nil {
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("agent pid %d did not exit within %v", pid, killTimeout)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return pid, nil
}
