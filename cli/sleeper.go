package cli

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/rhizome-dev/rhizome/agent"
	"github.com/rhizome-dev/rhizome/rpc"
)

func sleeperCommand() *cli.Command {
	return &cli.Command{
		Name:  "sleeper",
		Usage: "start a sleeper, the test process that prints 0 to 4, and print its pid",
		Description: `The sleeper prints 0 to 4, one line a second (SLEEP_OVERRIDE seconds when set).

   rhizome sleeper            # prints the pid
   rhizome sleeper --follow   # streams its output until it ends`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "stream its output until it ends"},
		},
		Action: runSleeper,
	}
}

func runSleeper(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErrorf("sleeper takes no arguments, got %q", c.Args().First())
	}
	var p rpc.SleeperParams
	if d, set, err := sleepOverride(); err != nil {
		return err
	} else if set {
		p.Interval = d.Seconds()
	}
	client, err := dialOrStart(c)
	if err != nil {
		return err
	}
	defer client.Close()
	ctx, cancel := answerContext(c)
	defer cancel()
	if !c.Bool("follow") {
		s, err := client.Sleeper(ctx, p)
		if err != nil {
			return err
		}
		fmt.Fprintln(c.App.Writer, s.PID)
		return nil
	}
	// Subscribe before starting, so not even the first line can be missed.
	sub, err := client.Subscribe(ctx, rpc.SubscribeParams{Target: "sleeper"})
	if err != nil {
		return err
	}
	s, err := client.Sleeper(ctx, p)
	if err != nil {
		return err
	}
	for batch := range sub.C() {
		for _, l := range batch {
			if l.ID != s.ID {
				continue
			}
			fmt.Fprintln(c.App.Writer, l.Format())
			if l.Stream == rpc.StreamEvent && strings.HasPrefix(l.Text, "subprocess finished") {
				return nil
			}
		}
	}
	return fmt.Errorf("lost the sleeper's output: %v", sub.Err())
}

// sleeperChildCommand is the sleeper itself, run by the agent as a child.
func sleeperChildCommand() *cli.Command {
	return &cli.Command{
		Name:   agent.SleeperCommand,
		Hidden: true,
		Action: func(c *cli.Context) error {
			interval := time.Second
			if d, set, err := sleepOverride(); err != nil {
				return err
			} else if set {
				interval = d
			}
			for i := 0; i < 5; i++ {
				if i > 0 {
					time.Sleep(interval)
				}
				fmt.Fprintln(c.App.Writer, i)
			}
			return nil
		},
	}
}

// sleepOverride reads SLEEP_OVERRIDE, the seed's knob for test processes' pace, in seconds.
func sleepOverride() (d time.Duration, set bool, err error) {
	v := os.Getenv(varSleepOverride)
	if v == "" {
		return 0, false, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 {
		return 0, false, usageErrorf("%s=%q is not a number of seconds", varSleepOverride, v)
	}
	return time.Duration(f * float64(time.Second)), true, nil
}
