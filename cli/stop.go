package cli

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/rhizome-dev/rhizome/rpc"
)

func stopCommand() *cli.Command {
	return &cli.Command{
		Name:      "stop",
		Usage:     "stop a supervised process by pid, or every process with a name",
		ArgsUsage: "PID|NAME",
		Description: `The process group gets SIGTERM, then SIGKILL after a grace period.

   rhizome stop 93302
   rhizome stop sleeper`,
		Flags:  []cli.Flag{jsonFlag("print what was stopped as JSON")},
		Action: runStop,
	}
}

func runStop(c *cli.Context) error {
	if c.NArg() > 1 {
		return extraArg(c, 1, "one PID or NAME")
	}
	if c.NArg() == 0 {
		return usageErrorf("stop takes one PID or NAME (see rhizome ps)")
	}
	client, err := dial(c)
	if err != nil {
		return err
	}
	defer client.Close()
	if err := answers(c, client); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Context, stopTimeout)
	defer cancel()
	r, err := client.Stop(ctx, rpc.StopParams{Target: c.Args().First()})
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return writeJSON(c.App.Writer, r)
	}
	for _, p := range r.Stopped {
		cut := ""
		if p.Traffic != nil && p.Traffic.Active > 0 {
			cut = fmt.Sprintf(", cutting %d open connection%s", p.Traffic.Active, plural(p.Traffic.Active))
		}
		switch {
		case p.PID != 0:
			fmt.Fprintf(c.App.Writer, "stopped %s (pid %d)%s\n", p.Name, p.PID, cut)
		case p.State == "failed" || p.State == "stopped" || p.State == "idle-stopped" || p.State == "expired":
			fmt.Fprintf(c.App.Writer, "cleared %s (%s)\n", p.Name, p.State) // a row without a process
		default:
			fmt.Fprintf(c.App.Writer, "stopped %s%s\n", p.Name, cut) // its streams ran in the agent
		}
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
