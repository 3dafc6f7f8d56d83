package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/rhizome-dev/rhizome/rpc"
)

func psCommand() *cli.Command {
	return &cli.Command{
		Name:  "ps",
		Usage: "list the processes the agent supervises",
		Description: `   rhizome ps            # a table
   rhizome ps --json     # {"running":[{"pid":93302,…}],"count":1}
   rhizome ps -w         # the table, then one line per state change until interrupted
   rhizome ps -w --json  # one JSON object per process, then one per state change`,
		Flags: []cli.Flag{
			jsonFlag("print JSON instead of the table"),
			wideFlag(),
			&cli.BoolFlag{Name: "watch", Aliases: []string{"w"}, Usage: "then print each state change as it happens, until interrupted"},
		},
		Action: runPs,
	}
}

// jsonFlag is --json; usage says what it prints as JSON, in place of what.
func jsonFlag(usage string) cli.Flag {
	return &cli.BoolFlag{Name: "json", Usage: usage, DisableDefaultText: true}
}

func runPs(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErrorf("ps takes no arguments, got %q", c.Args().First())
	}
	client, err := dial(c)
	if err != nil {
		return err
	}
	defer client.Close()
	if c.Bool("watch") {
		return watchPs(c, client)
	}
	ctx, cancel := answerContext(c)
	defer cancel()
	r, err := client.Ps(ctx)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return writeJSON(c.App.Writer, r)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(c.App.ErrWriter, "rhizome: warning: %s\n", w)
	}
	printPsTable(c.App.Writer, r.Running, time.Now(), screenWidth(c, c.App.Writer))
	return nil
}

// printPsTable prints the ps table, fitted to width columns (0: no limit).
func printPsTable(w io.Writer, procs []rpc.Process, now time.Time, width int) {
	t := table{header: []string{"PID", "NAME", "STATE", "ENGINE", "UPTIME", "RESTARTS", "DETAIL"}, shrink: []int{1, 6}, label: 1}
	for _, p := range procs {
		engine := "-"
		if p.Handle != nil && p.Handle.Engine != "" {
			engine = p.Handle.Engine
		}
		t.add(pidColumn(p), p.Name, p.State, engine, uptimeColumn(p, now), strconv.Itoa(p.Restarts), processDetail(p, now))
	}
	_ = t.write(w, width)
}

// pidColumn is the current child's pid, or "-" while no process runs.
func pidColumn(p rpc.Process) string {
	if p.PID == 0 {
		return "-"
	}
	return strconv.Itoa(p.PID)
}

// uptimeColumn is how long the process has run, or, while no process runs (reconnecting,
// failed, stopped), how long it has been in its state.
func uptimeColumn(p rpc.Process, now time.Time) string {
	if p.PID == 0 || p.Started == nil {
		return shortDuration(now.Sub(p.Since))
	}
	return shortDuration(now.Sub(*p.Started))
}

// processDetail is the one thing worth knowing about p beyond its state.
func processDetail(p rpc.Process, now time.Time) string {
	why := oneLine(p.Reason)
	if p.Fix != "" {
		why += fixMark + p.Fix // cut to the terminal's width, the reason gives way, not the fix
	}
	switch {
	case p.NextRestart != nil:
		return fmt.Sprintf("attempt %d, next try in %s: %s", p.Attempt, shortDuration(p.NextRestart.Sub(now)), why)
	case p.State == "failed", p.State == "idle-stopped", p.State == "expired":
		return why
	case p.Handle != nil && p.Kind == "simulated-forward":
		return p.Handle.ConnectionString + " (simulated)" + trafficDetail(p.Traffic, now)
	case p.Handle != nil:
		return p.Handle.ConnectionString + trafficDetail(p.Traffic, now)
	}
	return ""
}

// trafficDetail says in a few words how a forward is used: "2 open, last 5s ago".
func trafficDetail(t *rpc.Traffic, now time.Time) string {
	switch {
	case t == nil:
		return ""
	case t.LastActivity == nil:
		return ", unused"
	case t.Active > 0:
		return fmt.Sprintf(", %d open, last %s ago", t.Active, shortDuration(now.Sub(*t.LastActivity)))
	}
	return fmt.Sprintf(", idle, last %s ago", shortDuration(now.Sub(*t.LastActivity)))
}

func shortDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// oneLine keeps a multi-line reason on one table row.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
