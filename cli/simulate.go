package cli

import (
	"os"
	"os/signal"
	"strconv"
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
			if v, err := strconv.ParseFloat(os.Getenv("SLEEP_OVERRIDE"), 64); err == nil && v > 0 {
				interval = time.Duration(v * float64(time.Second))
			}
			return forward.Simulate(ctx, c.Args().Slice(), c.App.Writer, interval)
		},
	}
}
