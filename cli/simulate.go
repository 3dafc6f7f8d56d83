package cli

import (
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/rhizome-dev/rhizome/forward"
)

// simulateChildCommand is the simulated forward, run by the agent as a child.
func simulateChildCommand() *cli.Command {
	return &cli.Command{
		Name:            forward.SimulateCommand,
		Hidden:          true,
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			ctx, stop := signal.NotifyContext(c.Context, syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			return forward.Simulate(ctx, c.Args().Slice(), c.App.Writer)
		},
	}
}
