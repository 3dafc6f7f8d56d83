package cli

import (
	"os/signal"
	"syscall"
	"time"

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
			interval := 10 * time.Second
			// A bad SLEEP_OVERRIDE in the agent's environment must not break forwards.
			if d, set, err := sleepOverride(); err == nil && set && d > 0 {
				interval = d
			}
			return forward.Simulate(ctx, c.Args().Slice(), c.App.Writer, interval)
		},
	}
}
