// Package cli is rhizome's command line: one file per command, human and JSON output, and the
// hints that tell a person what to do next. It talks to the agent only through package rpc.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/rhizome-dev/rhizome/env"
)

// agentSocketFlag names the global flag that chooses the agent's socket.
const agentSocketFlag = "agent-socket"

// Version is the binary's version, stamped at build time with
// -ldflags "-X github.com/rhizome-dev/rhizome/cli.Version=…". Unstamped (go install …@latest
// sets no ldflags), binaryVersion reads it from the build info instead.
var Version = "dev"

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// usageError marks a mistake in how the command was called (exit code 2).
type usageError struct{ error }

// Run runs the command line in args (args[0] is the program name) and returns the exit code.
// It never calls os.Exit, so deferred cleanups run.
func Run(ctx context.Context, args []string) int {
	return run(ctx, args, os.Stdout, os.Stderr)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	// Completion bypasses urfave/cli's parsing: a half-typed command line is not an error.
	if words, described, ok := completionRequest(args); ok {
		writeCompletions(ctx, stdout, app, words, described)
		return exitOK
	}
	var unknownCommand string
	// urfave/cli returns nil after this hook, so the error is made here, for exit code 2.
	app.CommandNotFound = func(_ *cli.Context, name string) { unknownCommand = name }
	app.Setup()
	err := app.RunContext(ctx, flagsFirst(app, helpWords(args)))
	if unknownCommand != "" {
		did := ""
		if near := env.Closest(unknownCommand, commandNames(app)); near != "" {
			did = fmt.Sprintf(": did you mean %q?", near)
		}
		err = usageErrorf("unknown command %q%s (see rhizome --help)", unknownCommand, did)
	}
	if err == nil {
		return exitOK
	}
	var exit exitCode
	if errors.As(err, &exit) {
		return int(exit)
	}
	fmt.Fprintf(stderr, "rhizome: %s\n", withoutPackagePrefix(agentHint(err).Error()))
	var usage usageError
	if errors.As(err, &usage) {
		return exitUsage
	}
	return exitError
}

// exitCode ends the program with a code and no message (the command already said why).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:            "rhizome",
		Usage:           "always-working local access to databases behind Kubernetes",
		Version:         binaryVersion(),
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Suggest:         true,
		Flags: []cli.Flag{
			&cli.StringFlag{
				Name: agentSocketFlag,
				// --socket is the old spelling, still taken where it is not forward's own
				// --socket (which prints the forward's socket).
				Aliases: []string{"socket"},
				Usage:   "the agent's `SOCKET` to talk to (default: $XDG_RUNTIME_DIR/rhizome/agent.sock)",
				EnvVars: []string{env.VarSock},
			},
		},
		Commands: []*cli.Command{
			agentCommand(),
			forwardCommand(),
			connectCommand(),
			envsCommand(),
			sleeperCommand(),
			psCommand(),
			logsCommand(),
			stopCommand(),
			statusCommand(),
			doctorCommand(),
			versionCommand(),
			completionCommand(),
			sleeperChildCommand(),
			simulateChildCommand(),
			watchdogCommand(),
		},
		// Errors are reported by Run; urfave/cli would otherwise os.Exit on some of them.
		ExitErrHandler: func(*cli.Context, error) {},
	}
	app.OnUsageError = func(_ *cli.Context, err error, _ bool) error {
		return flagError(nil, app.Flags, nil, err)
	}
	for _, c := range app.Commands {
		// A mistyped flag gets one line saying so, not the command's whole help page.
		c.OnUsageError = func(_ *cli.Context, err error, _ bool) error {
			return flagError(c, c.Flags, app.Flags, err)
		}
	}
	return app
}

// extraArg reports the first of a command's arguments beyond the n it takes, by its word.
func extraArg(c *cli.Context, n int, takes string) error {
	return usageErrorf("%s takes %s; %q is one too many", c.Command.Name, takes, c.Args().Get(n))
}

// usageErrorf reports a wrong call of a command.
func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}
