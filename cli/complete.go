package cli

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/rhizome-dev/rhizome/env"
	"github.com/rhizome-dev/rhizome/rpc"
)

// completionTimeout keeps a Tab press from hanging when the agent is wedged.
const completionTimeout = 300 * time.Millisecond

// completeForward offers environment names, then that environment's databases. Errors print
// nothing: completion must never write into the command line.
func completeForward(c *cli.Context) {
	catalog, err := env.Load()
	if err != nil {
		return
	}
	switch c.NArg() {
	case 0:
		for _, e := range catalog.Environments() {
			fmt.Fprintln(c.App.Writer, e.Name)
			for _, a := range e.Aliases {
				fmt.Fprintln(c.App.Writer, a)
			}
		}
	case 1:
		e, err := catalog.Environment(c.Args().First())
		if err != nil {
			return
		}
		for _, n := range e.DatabaseNames() {
			fmt.Fprintln(c.App.Writer, n)
			for _, a := range e.Databases[n].Aliases {
				fmt.Fprintln(c.App.Writer, a)
			}
		}
	}
}

// completeProcesses offers the pids and names of live processes. It never starts an agent and
// gives up quickly when none answers.
func completeProcesses(c *cli.Context) {
	if c.NArg() > 0 {
		return
	}
	ctx, cancel := context.WithTimeout(c.Context, completionTimeout)
	defer cancel()
	client, err := rpc.Dial(ctx, socketPath(c))
	if err != nil {
		return
	}
	defer client.Close()
	r, err := client.Ps(ctx)
	if err != nil {
		return
	}
	names := map[string]bool{}
	for _, p := range r.Running {
		if p.PID > 0 {
			fmt.Fprintln(c.App.Writer, strconv.Itoa(p.PID))
		}
		if !names[p.Name] {
			names[p.Name] = true
			fmt.Fprintln(c.App.Writer, p.Name)
		}
	}
}
