package cli

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/rhizome-dev/rhizome/env"
	"github.com/rhizome-dev/rhizome/rpc"
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
	// The login: the command, never its output; the TTL only with a command.
	User            string        `json:"user,omitempty"`
	PasswordCommand []string      `json:"password_command,omitempty"`
	PasswordTTL     *rpc.Duration `json:"password_ttl,omitempty"`
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
				d := dbJSON{Name: db.Name, Aliases: db.Aliases, Instance: db.Instance, LocalPort: db.LocalPort, Source: db.Source,
					Engine: db.Engine, PodPort: db.PodPort, User: db.Login.User, PasswordCommand: db.Login.PasswordCommand}
				if len(db.Login.PasswordCommand) > 0 {
					ttl := rpc.Duration(db.Login.PasswordTTL)
					d.PasswordTTL = &ttl
				}
				j.Databases = append(j.Databases, d)
			}
			out = append(out, j)
		}
		return writeJSON(c.App.Writer, out)
	}
	// The LOGIN column only when a database has one: most configs have none.
	logins := false
	for _, e := range catalog.Environments() {
		for _, db := range e.Databases {
			logins = logins || loginText(db.Login) != ""
		}
	}
	t := table{header: []string{"ENV", "DATABASE", "PORT", "INSTANCE", "CONTEXT", "SOURCE"}, shrink: []int{3, 4, 5}, fromStart: []int{5}}
	if logins {
		t = table{header: []string{"ENV", "DATABASE", "PORT", "INSTANCE", "CONTEXT", "LOGIN", "SOURCE"}, shrink: []int{3, 4, 5, 6}, fromStart: []int{6}}
	}
	for _, e := range catalog.Environments() {
		for _, n := range e.DatabaseNames() {
			db := e.Databases[n]
			row := []string{withAliases(e.Name, e.Aliases), withEngine(withAliases(db.Name, db.Aliases), db.Engine), strconv.Itoa(db.LocalPort), withPodPort(db.Instance, db.PodPort), e.Context}
			if logins {
				row = append(row, cmp.Or(loginText(db.Login), "-"))
			}
			t.add(append(row, db.Source)...)
		}
	}
	return t.write(c.App.Writer, screenWidth(c, c.App.Writer))
}

// loginText says in a few words how the door logs in to a database: the user, and the command
// the password comes from (never the password) with how long it is kept; "" for no login.
func loginText(l env.Login) string {
	if len(l.PasswordCommand) == 0 {
		return l.User // rhizome connect's user; clients bring their own password
	}
	kept := "every connection"
	if l.PasswordTTL > 0 {
		kept = "kept " + l.PasswordTTL.String()
	}
	password := fmt.Sprintf("password from %s (%s)", strings.Join(l.PasswordCommand, " "), kept)
	if l.User == "" {
		return password
	}
	return l.User + ", " + password
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
