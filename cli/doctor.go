package cli

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/rhizome-dev/rhizome/env"
)

func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:      "doctor",
		Usage:     "check the set-up a forward needs, one line per check with the fix",
		ArgsUsage: "[ENV]",
		Description: `Checks that kubectl is there, the config parses (and lists each environment's databases
with their engine and port, and, where the config gives a login, whether the front door logs
your clients in and on which endpoints), each environment's kube context is in the kubeconfig, its
credentials may port-forward and exec in its namespace, its deployment exists, the socket
directory is private, the agent answers and runs this rhizome, and what the agent itself would
run: its kubectl, and each context's credential plugin on its own PATH. Exits 1 when a check
fails.
No check waits long on a cluster that does not answer.

   rhizome doctor           # every environment
   rhizome doctor na-prod   # one environment
   rhizome doctor --json`,
		Flags:  []cli.Flag{jsonFlag("print the checks as JSON")},
		Action: runDoctor,
	}
}

// check is one line of the doctor's report. Fix says what to do when it failed.
type check struct {
	Name   string `json:"check"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

func passed(name, format string, args ...any) check {
	return check{Name: name, OK: true, Detail: fmt.Sprintf(format, args...)}
}

func failed(name, fix, format string, args ...any) check {
	return check{Name: name, Detail: fmt.Sprintf(format, args...), Fix: fix}
}

func runDoctor(c *cli.Context) error {
	if c.NArg() > 1 {
		return extraArg(c, 1, "at most one ENV")
	}
	ctx := c.Context
	catalog, config := checkConfig()
	var envs []*env.Environment
	var picked []check
	if catalog != nil {
		envs, picked = pickEnvironments(catalog, c.Args().First())
	}
	kube := kubeChecks(ctx, envs) // kubectl's line first, then the environments'
	checks := append([]check{kube[0], config}, picked...)
	for _, e := range envs {
		checks = append(checks, checkDatabases(e))
		if logins, ok := checkLogins(e); ok {
			checks = append(checks, logins)
		}
	}
	checks = append(checks, kube[1:]...)
	socket := socketPath(c)
	checks = append(checks, checkSocketDir(socket))
	ac, skew := checkAgent(ctx, socket)
	checks = append(checks, ac)
	if ac.OK {
		checks = append(checks, agentKubeChecks(ctx, socket, envs)...)
	}
	if skew != "" {
		fmt.Fprintf(c.App.ErrWriter, "rhizome: %s\n", skew)
	}

	ok := true
	for _, ch := range checks {
		ok = ok && ch.OK
	}
	if c.Bool("json") {
		if err := writeJSON(c.App.Writer, struct {
			OK     bool    `json:"ok"`
			Checks []check `json:"checks"`
		}{ok, checks}); err != nil {
			return err
		}
	} else {
		printChecks(c.App.Writer, checks)
	}
	if !ok {
		return exitCode(exitError)
	}
	return nil
}

func printChecks(w io.Writer, checks []check) {
	for _, ch := range checks {
		if ch.OK {
			fmt.Fprintf(w, "✓ %s: %s\n", ch.Name, ch.Detail)
			continue
		}
		fmt.Fprintf(w, "✗ %s: %s; fix: %s\n", ch.Name, ch.Detail, ch.Fix)
	}
}
