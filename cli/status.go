package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/rhizome-dev/rhizome/forward"
	"github.com/rhizome-dev/rhizome/rpc"
)

// statusTimeout bounds a status line: a prompt must not wait on a wedged agent.
const statusTimeout = 500 * time.Millisecond

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "print one line for a shell prompt or tmux: the forwards by state",
		Description: `Prints, e.g., "2 ready, 1 restarting", or nothing when no agent answers or it has no
forwards. It never starts an agent, never prints an error, always exits 0, and gives up after
half a second on an agent that does not answer. See README for PS1 and tmux lines.`,
		Action: runStatus,
	}
}

func runStatus(c *cli.Context) error {
	if c.NArg() > 0 {
		return extraArg(c, 0, "no arguments")
	}
	ctx, cancel := context.WithTimeout(c.Context, statusTimeout)
	defer cancel()
	client, err := rpc.Dial(ctx, socketPath(c))
	if err != nil {
		return nil
	}
	defer client.Close()
	r, err := client.Ps(ctx)
	if err != nil {
		return nil
	}
	if line := statusLine(r.Running); line != "" {
		fmt.Fprintln(c.App.Writer, line)
	}
	return nil
}

// statusLine counts the forwards among procs by state: "2 ready, 1 restarting". Ready comes
// first, the other states by name; "" when there are no forwards.
func statusLine(procs []rpc.Process) string {
	counts := map[string]int{}
	for _, p := range procs {
		if p.Kind == forward.Kind || p.Kind == forward.KindSimulated {
			counts[p.State]++
		}
	}
	states := make([]string, 0, len(counts))
	for s := range counts {
		states = append(states, s)
	}
	sort.Slice(states, func(i, j int) bool {
		if (states[i] == "ready") != (states[j] == "ready") {
			return states[i] == "ready"
		}
		return states[i] < states[j]
	})
	parts := make([]string, len(states))
	for i, s := range states {
		parts[i] = fmt.Sprintf("%d %s", counts[s], s)
	}
	return strings.Join(parts, ", ")
}
