package cli

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/rhizome-dev/rhizome/agent"
)

// watchdogCommand is the watchdog through which the agent starts its children where they would
// otherwise outlive it (see proc.RunWatchdog). Its words are the child's, so none is a flag.
func watchdogCommand() *cli.Command {
	return &cli.Command{
		Name:            agent.WatchdogCommand,
		Hidden:          true,
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			if err := agent.RunWatchdog(c.Args().Slice()); err != nil {
				// 127, as a shell says a command could not be run; the agent logs the line.
				fmt.Fprintf(c.App.ErrWriter, "rhizome: %v\n", err)
				return exitCode(127)
			}
			return nil
		},
	}
}
