package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/rhizome-dev/rhizome/env"
)

func envsCommand() *cli.Command {
	return &cli.Command{
		Name:  "envs",
		Usage: "list the environments and databases rhizome forward knows",
		Description: `Built-in environments are overlaid with ~/.config/rhizome/config and the files it includes
(see README). SOURCE says where each database was defined: built-in, or FILE:LINE.

   rhizome envs
   rhizome envs --json`,
		Flags:  []cli.Flag{jsonFlag("print JSON instead of the table"), wideFlag()},
		Action: runEnvs,
	}
}

// envJSON is one environment as `rhizome envs --json` prints it.
type envJSON struct {
	Name       string   `json:"name"`
	Aliases    []string `json:"aliases,omitempty"`
	Context    string   `json:"kube_context"`
	Namespace  string   `json:"kube_namespace"`
	Deployment string   `json:"kube_deployment"`
	Source     string   `json:"source"`
	Databases  []dbJSON `json:"databases"`
}

type dbJSON struct {
	Name      string   `json:"name"`
	Aliases   []string `json:"aliases,omitempty"`
	Instance  string   `json:"sql_connection"`
	LocalPort int      `json:"local_port"`
	Source    string   `json:"source"`
	Engine    string   `json:"engine"`
	PodPort   int      `json:"pod_port,omitempty"`
}

func runEnvs(c *cli.Context) error {
	if c.NArg() > 0 {
		return extraArg(c, 0, "no arguments")
	}
	catalog, err := env.Load()
	if err != nil {
		return err
	}
	if c.Bool("json") {
		out := []envJSON{}
		for _, e := range catalog.Environments() {
			j := envJSON{Name: e.Name, Aliases: e.Aliases, Context: e.Context, Namespace: e.Namespace, Deployment: e.Deployment, Source: e.Source, Databases: []dbJSON{}}
			for _, n := range e.DatabaseNames() {
				db := e.Databases[n]
				j.Databases = append(j.Databases, dbJSON{db.Name, db.Aliases, db.Instance, db.LocalPort, db.Source, db.Engine, db.PodPort})
			}
			out = append(out, j)
		}
		return writeJSON(c.App.Writer, out)
	}
	t := table{header: []string{"ENV", "DATABASE", "PORT", "INSTANCE", "CONTEXT", "SOURCE"}, shrink: []int{3, 4, 5}, fromStart: []int{5}}
	for _, e := range catalog.Environments() {
		for _, n := range e.DatabaseNames() {
			db := e.Databases[n]
			t.add(withAliases(e.Name, e.Aliases), withEngine(withAliases(db.Name, db.Aliases), db.Engine), strconv.Itoa(db.LocalPort), withPodPort(db.Instance, db.PodPort), e.Context, db.Source)
		}
	}
	return t.write(c.App.Writer, screenWidth(c, c.App.Writer))
}

// withEngine marks a database of an engine other than the default, in brackets: the table
// keeps its columns, and --json has every database's engine.
func withEngine(name, engine string) string {
	if engine == "" || engine == env.DefaultEngine {
		return name
	}
	return name + " [" + engine + "]"
}

// withPodPort marks an instance reached on a fixed pod port (a sidecar), with no connection
// command.
func withPodPort(instance string, podPort int) string {
	if podPort == 0 {
		return instance
	}
	return fmt.Sprintf("%s (pod port %d)", instance, podPort)
}

func withAliases(name string, aliases []string) string {
	if len(aliases) == 0 {
		return name
	}
	return name + " (" + strings.Join(aliases, ", ") + ")"
}
