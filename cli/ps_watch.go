package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/rhizome-dev/rhizome/rpc"
)

// watchPs is ps -w: the table (with --json, one state-change object per process), then one
// line per state change until interrupted or the agent goes away.
func watchPs(c *cli.Context, client *rpc.Client) error {
	// Watch first, then list, so no change falls between the two.
	ctx, cancel := answerContext(c)
	defer cancel()
	w, err := client.Watch(ctx)
	if err != nil {
		return err
	}
	r, err := client.Ps(ctx)
	if err != nil {
		return err
	}
	print := stateWriter(c.App.Writer, c.Bool("json"))
	now := time.Now()
	if c.Bool("json") {
		for _, p := range r.Running {
			print(rpc.StateChange{Time: now, ID: p.ID, PID: p.PID, Name: p.Name, Kind: p.Kind, State: p.State, Reason: p.Reason, Exit: p.Exit})
		}
	} else {
		for _, warning := range r.Warnings {
			fmt.Fprintf(c.App.ErrWriter, "rhizome: warning: %s\n", warning)
		}
		printPsTable(c.App.Writer, r.Running, now, screenWidth(c, c.App.Writer))
	}
	for {
		select {
		case <-c.Context.Done():
			return nil
		case batch, ok := <-w.C():
			if !ok {
				if err := w.Err(); err != nil {
					return fmt.Errorf("stopped watching: %v", err)
				}
				return nil
			}
			for _, ch := range batch {
				print(ch)
			}
		}
	}
}

// stateWriter prints state changes as JSON lines or as lines for people:
//
//	22:46:06 sleeper pid=93302 restarting: exit status 1
func stateWriter(w io.Writer, asJSON bool) func(rpc.StateChange) {
	if asJSON {
		enc := json.NewEncoder(w)
		return func(ch rpc.StateChange) { _ = enc.Encode(ch) }
	}
	return func(ch rpc.StateChange) {
		line := ch.Time.Local().Format(time.TimeOnly) + " " + ch.Name
		if ch.PID > 0 { // none before the first child starts
			line += fmt.Sprintf(" pid=%d", ch.PID)
		}
		line += " " + ch.State
		switch {
		case ch.Reason != "":
			line += ": " + oneLine(ch.Reason)
		case ch.Exit != "":
			line += ": " + ch.Exit
		}
		fmt.Fprintln(w, line)
	}
}
