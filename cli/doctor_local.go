package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/rhizome-dev/rhizome/env"
	"github.com/rhizome-dev/rhizome/forward/door"
	"github.com/rhizome-dev/rhizome/rpc"
)

// restartAgent is what a user runs to replace the running agent with this binary's.
const restartAgent = `eval "$(rhizome agent -k)"; eval "$(rhizome agent)"`

// checkConfig loads the environments; the catalog is nil when the config does not parse.
func checkConfig() (*env.Catalog, check) {
	catalog, err := env.Load()
	if err != nil {
		return nil, failed("config", "correct that line of the file", "%v", err)
	}
	n := len(catalog.Names())
	if _, err := os.Stat(env.ConfigFile()); errors.Is(err, os.ErrNotExist) {
		return catalog, passed("config", "no %s, so the %d built-in environment(s) only", env.ConfigFile(), n)
	}
	return catalog, passed("config", "%s parses: %d environment(s)", env.ConfigFile(), n)
}

// pickEnvironments returns the environment named, or all of them when name is "".
func pickEnvironments(catalog *env.Catalog, name string) ([]*env.Environment, []check) {
	if name == "" {
		return catalog.Environments(), nil
	}
	e, err := catalog.Environment(name)
	if err != nil {
		return nil, []check{failed("environment", "rhizome envs lists them", "%v", err)}
	}
	return []*env.Environment{e}, nil
}

// checkDatabases lists each database of e with its engine and local port: what a forward of it
// will wait for and where it will listen.
func checkDatabases(e *env.Environment) check {
	name := e.Name + " databases"
	var dbs []string
	for _, n := range e.DatabaseNames() {
		db := e.Databases[n]
		engine, err := env.LookupEngine(db.Engine)
		if err != nil { // Load refuses one already; a catalog built otherwise may not have
			return failed(name, fmt.Sprintf("correct the engine of database %s (%s)", n, db.Source), "%s: %v", n, err)
		}
		if db.PodPort != 0 {
			dbs = append(dbs, fmt.Sprintf("%s (%s, port %d, pod port %d: no connection command)", n, engine.Title, db.LocalPort, db.PodPort))
		} else {
			dbs = append(dbs, fmt.Sprintf("%s (%s, port %d)", n, engine.Title, db.LocalPort))
		}
	}
	if len(dbs) == 0 {
		return passed(name, "none yet; add a database block to environment %s (%s)", e.Name, e.Source)
	}
	return passed(name, "%s", strings.Join(dbs, ", "))
}

// checkLogins says, per database of e, whether the front door logs clients in by itself and
// on which of its endpoints: only where it verifies that the peer is the owner
// (door.LoginEndpoints). ok is false when no database of e has a login setting: then there
// is nothing to say.
func checkLogins(e *env.Environment) (c check, ok bool) {
	var where []string
	for _, ep := range door.LoginEndpoints() {
		where = append(where, map[string]string{"tcp": "TCP port", "socket": "Unix socket"}[ep])
	}
	on := "on its " + strings.Join(where, " and ")
	if !slices.Contains(door.LoginEndpoints(), "tcp") {
		on += " only (on its TCP port a client needs its own password: this system cannot tell who connects there)"
	}
	var dbs []string
	for _, n := range e.DatabaseNames() {
		l := e.Databases[n].Login
		switch {
		case len(l.PasswordCommand) > 0:
			ok = true
			dbs = append(dbs, fmt.Sprintf("%s: the door logs your clients in %s: %s", n, on, loginText(l)))
		case l.User != "":
			ok = true
			dbs = append(dbs, fmt.Sprintf("%s: user %s for rhizome connect; clients bring their own password", n, l.User))
		default:
			dbs = append(dbs, n+": clients bring their own password")
		}
	}
	return passed(e.Name+" logins", "%s", strings.Join(dbs, "; ")), ok
}

// checkSocketDir checks that only the user can reach the agent's socket directory: whoever
// can enter it can talk to the agent.
func checkSocketDir(socket string) check {
	const name = "socket directory"
	dir := filepath.Dir(socket)
	info, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return passed(name, "%s does not exist yet; the agent makes it private (0700)", dir)
	}
	if err != nil {
		return failed(name, "point RHIZOME_SOCK at a socket in a directory of yours", "%v", err)
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	switch {
	case !info.IsDir():
		return failed(name, "remove it, or point RHIZOME_SOCK elsewhere", "%s is not a directory", dir)
	case ok && int(st.Uid) != os.Getuid():
		return failed(name, "point RHIZOME_SOCK at a socket in a directory of yours", "%s belongs to uid %d, not you (uid %d)", dir, st.Uid, os.Getuid())
	case info.Mode().Perm()&0o077 != 0:
		return failed(name, fmt.Sprintf("chmod 700 %s", dir), "%s is open to others (%04o)", dir, info.Mode().Perm())
	}
	return passed(name, "%s is private (%04o)", dir, info.Mode().Perm())
}

// checkAgent asks the agent at socket who it is. skew is set when it runs another rhizome,
// for a warning on stderr.
func checkAgent(ctx context.Context, socket string) (c check, skew string) {
	const name = "agent"
	v, err := queryAgent(ctx, socket)
	if errors.Is(err, rpc.ErrNoAgent) {
		return failed(name, `eval "$(rhizome agent)"`, "no agent answers at %s", socket), ""
	}
	if err != nil {
		return failed(name, restartAgent, "the agent at %s: %v", socket, err), ""
	}
	if v.Version != binaryVersion() || v.Protocol != rpc.ProtocolVersion {
		skew = fmt.Sprintf("agent pid %d runs rhizome %s (protocol %d), this is rhizome %s (protocol %d): restart it with %s",
			v.PID, v.Version, v.Protocol, binaryVersion(), rpc.ProtocolVersion, restartAgent)
		return failed(name, restartAgent, "pid %d runs rhizome %s (protocol %d), this is rhizome %s (protocol %d)",
			v.PID, v.Version, v.Protocol, binaryVersion(), rpc.ProtocolVersion), skew
	}
	if v.SimulatesAll {
		return failed(name, restartAgent,
			"pid %d on %s simulates every forward (it was started with %s=true): no forward of it reaches a database", v.PID, socket, env.VarSimulate), ""
	}
	return passed(name, "pid %d on %s runs this rhizome (%s, protocol %d)", v.PID, v.Socket, v.Version, v.Protocol), ""
}
