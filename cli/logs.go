package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/rhizome-dev/rhizome/rpc"
)

func logsCommand() *cli.Command {
	return &cli.Command{
		Name:      "logs",
		Usage:     "print recent output of supervised processes",
		ArgsUsage: "[PID|NAME]",
		Description: `   rhizome logs                # recent lines of every process
   rhizome logs -n 20 sleeper  # the last 20 lines of processes named sleeper
   rhizome logs -f             # then keep printing new lines until interrupted`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep printing new lines as they come"},
			&cli.IntFlag{Name: "lines", Aliases: []string{"n"}, Value: 100, Usage: "print the last `N` lines"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object per line"},
		},
		Action: runLogs,
	}
}

func runLogs(c *cli.Context) error {
	if c.NArg() > 1 {
		return extraArg(c, 1, "at most one PID or NAME")
	}
	if c.Int("lines") < 0 {
		return usageErrorf("--lines %d: must not be negative", c.Int("lines"))
	}
	target := c.Args().First()
	client, err := dial(c)
	if err != nil {
		return err
	}
	defer client.Close()
	print := lineWriter(c.App.Writer, c.Bool("json"))

	ctx, cancel := answerContext(c)
	defer cancel()
	var sub *rpc.Subscription
	if c.Bool("follow") {
		// Subscribe first, then read the backlog, so no line falls between the two. The
		// subscription outlives ctx, which bounds only the agent's answer.
		if sub, err = client.Subscribe(ctx, rpc.SubscribeParams{Target: target}); err != nil {
			return err
		}
	}
	var backlog []rpc.LogLine
	if n := c.Int("lines"); n > 0 {
		r, err := client.Logs(ctx, rpc.LogsParams{Target: target, Lines: n})
		if err != nil && (sub == nil || !errors.Is(err, rpc.ErrNotFound)) {
			return err
		}
		backlog = r.Lines
	}
	for _, l := range backlog {
		print(l)
	}
	if sub == nil {
		return nil
	}
	seen := lastLines(backlog)
	for {
		select {
		case <-c.Context.Done():
			return nil
		case batch, ok := <-sub.C():
			if !ok {
				if err := sub.Err(); err != nil {
					return fmt.Errorf("stopped following: %v", err)
				}
				return nil
			}
			for _, l := range batch {
				if seen.skip(l) {
					continue
				}
				print(l)
			}
		}
	}
}

func lineWriter(w io.Writer, asJSON bool) func(rpc.LogLine) {
	if asJSON {
		enc := json.NewEncoder(w)
		return func(l rpc.LogLine) { _ = enc.Encode(l) }
	}
	return func(l rpc.LogLine) { fmt.Fprintln(w, l.Format()) }
}

// backlogTail drops the streamed lines that the backlog already printed: the subscription
// started before the backlog was read, so its first lines may repeat the backlog's last.
type backlogTail struct{ lines map[rpc.LogLine]bool }

func lastLines(backlog []rpc.LogLine) *backlogTail {
	t := &backlogTail{lines: map[rpc.LogLine]bool{}}
	for _, l := range backlog {
		t.lines[l] = true
	}
	return t
}

func (t *backlogTail) skip(l rpc.LogLine) bool {
	if len(t.lines) == 0 {
		return false
	}
	if t.lines[l] {
		delete(t.lines, l)
		return true
	}
	t.lines = nil // past the overlap: stop comparing
	return false
}
