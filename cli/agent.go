package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
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
	case v.Version != binaryVersion():
		fmt.Fprintf(c.App.ErrWriter, "rhizome: agent pid %d runs rhizome %s, this is rhizome %s: restart it with rhizome agent -k, then eval \"$(rhizome agent)\"\n",
			v.PID, v.Version, binaryVersion())
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
		Version:   binaryVersion(),
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

// killTimeout bounds waiting for an agent that answered agent -k to stop its children and exit:
// its own shutdownTimeout, and a little more.
const killTimeout = shutdownTimeout + 5*time.Second

// killGrace is how long a hung agent gets between SIGTERM and SIGKILL.
const killGrace = 5 * time.Second

// killAgent stops the agent at the socket (or $RHIZOME_AGENT_PID) and prints the unset lines,
// which it prints even when no agent was left to stop: the shell's variables are stale then.
// An agent that does not answer, or does not stop, gets SIGTERM, then SIGKILL.
func killAgent(c *cli.Context, sh shellSyntax) error {
	socket := c.String("a")
	if socket == "" {
		socket = socketPath(c)
	}
	ctx, cancel := context.WithTimeout(c.Context, killTimeout)
	defer cancel()
	pid, err := shutdownAt(ctx, socket)
	var stuck stuckAgent
	switch {
	case errors.As(err, &stuck):
		fmt.Fprintf(c.App.ErrWriter, "rhizome: %v; sending it SIGTERM, then SIGKILL\n", err)
		pid, err = killStuck(socket, stuck.pid)
	case errors.Is(err, rpc.ErrNoAgent):
		pid, err = signalAgentPID(ctx)
	}
	if err != nil && !errors.Is(err, errNothingToKill) {
		return err
	}
	// With nothing left to stop, the shell's variables are stale: unset them all the same.
	printUnsetVars(c.App.Writer, sh, pid, c.Bool("q") || pid == 0)
	return err
}

// stuckAgent is an agent that took the connection but did not answer, or did not stop.
type stuckAgent struct {
	pid int // as the kernel said when we connected; 0 when it did not say
	err error
}

func (s stuckAgent) Error() string { return s.err.Error() }

// shutdownAt asks the agent at socket to shut down and waits until it has: the agent closes
// client connections only after its children are gone and the socket is removed.
func shutdownAt(ctx context.Context, socket string) (int, error) {
	dctx, cancel := context.WithTimeout(ctx, answerTimeout)
	defer cancel()
	client, err := rpc.Dial(dctx, socket)
	if err != nil {
		return 0, err
	}
	defer client.Close()
	v, err := client.Version(dctx)
	if err == nil {
		err = client.Shutdown(dctx)
	}
	if errors.Is(err, rpc.ErrNotAnswering) {
		return 0, stuckAgent{client.PID(), err}
	}
	if err != nil {
		return 0, err
	}
	select {
	case <-client.Done():
		return v.PID, nil
	case <-ctx.Done():
		return 0, stuckAgent{v.PID, fmt.Errorf("agent pid %d on %s did not stop within %v", v.PID, socket, killTimeout)}
	}
}

// killStuck ends the agent of socket that does not answer: the pid in its lock file (or the
// one the kernel gave for the connection), once it is checked to be a rhizome agent, gets
// SIGTERM (and SIGCONT, should it be stopped), then SIGKILL after killGrace. Its children
// die with it. The socket it leaves is removed.
func killStuck(socket string, peerPID int) (int, error) {
	pid := peerPID
	if raw, err := os.ReadFile(agent.LockPath(socket)); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(raw))); err == nil && n > 1 {
			pid = n
		}
	}
	if pid <= 1 {
		return 0, fmt.Errorf("the agent on %s does not answer and its pid is unknown (no %s): kill it by hand", socket, agent.LockPath(socket))
	}
	if argv, err := processArgs(pid); err != nil || !isAgentCommand(argv) {
		return 0, fmt.Errorf("process %d (from %s) is not a rhizome agent: not killing it", pid, agent.LockPath(socket))
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	_ = syscall.Kill(pid, syscall.SIGCONT)
	if !waitGone(pid, killGrace) {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return 0, fmt.Errorf("killing agent pid %d: %w", pid, err)
		}
		if !waitGone(pid, killGrace) {
			return 0, fmt.Errorf("agent pid %d is still there after SIGKILL", pid)
		}
	}
	if fi, err := os.Lstat(socket); err == nil && fi.Mode()&os.ModeSocket != 0 {
		if _, err := rpc.Dial(context.Background(), socket); errors.Is(err, rpc.ErrNoAgent) {
			_ = os.Remove(socket)
		}
	}
	return pid, nil
}

// waitGone waits up to d for process pid to end, and reports whether it did. A zombie, which
// only waits for its parent to reap it, counts as gone.
func waitGone(pid int, d time.Duration) bool {
	for deadline := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		if argv, err := processArgs(pid); err != nil || len(argv) == 0 || argv[0] == "" {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// errNothingToKill means agent -k found no agent: none answers and none is named.
var errNothingToKill = errors.New("no agent to kill")

// signalAgentPID is the fallback when nothing answers on the socket: SIGTERM to
// $RHIZOME_AGENT_PID, if that process is a rhizome agent. With no such process left, there is
// nothing to stop, and the caller still prints the unset lines.
func signalAgentPID(ctx context.Context) (int, error) {
	raw := os.Getenv(env.VarAgentPID)
	if raw == "" {
		return 0, fmt.Errorf("%w: nothing answers on the socket and RHIZOME_AGENT_PID is not set", errNothingToKill)
	}
	pid, err := strconv.Atoi(raw)
	if err != nil || pid <= 1 {
		return 0, fmt.Errorf("RHIZOME_AGENT_PID=%q is not a pid", raw)
	}
	argv, err := processArgs(pid)
	if err != nil {
		return 0, fmt.Errorf("%w: process %d (RHIZOME_AGENT_PID) is gone", errNothingToKill, pid)
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
