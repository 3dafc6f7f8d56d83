package cli

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/rhizome-dev/rhizome/rpc"
)

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the versions of this rhizome and of the running agent",
		Flags: []cli.Flag{jsonFlag("print the versions as JSON")},
		Action: func(c *cli.Context) error {
			out := struct {
				Client   string             `json:"client"`
				Protocol int                `json:"protocol"`
				Agent    *rpc.VersionResult `json:"agent,omitempty"`
				Error    string             `json:"agent_error,omitempty"`
				// NotRunning: nothing answers on the socket (rather than an agent that
				// does not answer, or one that is not ours).
				NotRunning bool `json:"-"`
			}{Client: binaryVersion(), Protocol: rpc.ProtocolVersion}
			if v, err := queryAgent(c.Context, socketPath(c)); err == nil {
				out.Agent = &v
			} else {
				out.Error, out.NotRunning = err.Error(), errors.Is(err, rpc.ErrNoAgent)
			}
			if c.Bool("json") {
				return writeJSON(c.App.Writer, out)
			}
			fmt.Fprintf(c.App.Writer, "rhizome %s (protocol %d)\n", out.Client, out.Protocol)
			if out.Agent != nil {
				fmt.Fprintf(c.App.Writer, "agent   %s (protocol %d), pid %d, socket %s\n", out.Agent.Version, out.Agent.Protocol, out.Agent.PID, out.Agent.Socket)
			} else if out.NotRunning {
				fmt.Fprintf(c.App.Writer, "agent   not running (%s)\n", out.Error)
			} else {
				fmt.Fprintf(c.App.Writer, "agent   %s\n", agentHint(errors.New(out.Error)))
			}
			return nil
		},
	}
}

// binaryVersion is this binary's version: the stamped Version, else the module's version from
// the build info (go install …@v1.2.3, or a pseudo-version for @latest), else the VCS revision
// it was built from, with -dirty for uncommitted changes (go build in a checkout), else "dev".
var binaryVersion = sync.OnceValue(func() string {
	if Version != "dev" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Version
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision":
			rev = s.Value[:min(12, len(s.Value))]
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "-dirty"
		}
	}
	if rev == "" {
		return Version
	}
	return rev + dirty
})
