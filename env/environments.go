package env

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ErrUnknown means an environment or database name matches nothing built in or configured.
var ErrUnknown = errors.New("env: unknown name")

// unknownName is an ErrUnknown whose text is only the sentence for the user, which names what
// is known: "no environment "na-dev"; known: na-prod".
type unknownName struct{ msg string }

func (u *unknownName) Error() string        { return u.msg }
func (u *unknownName) Is(target error) bool { return target == ErrUnknown }

func unknown(format string, args ...any) error {
	return &unknownName{fmt.Sprintf(format, args...)}
}

// Environment is a named Kubernetes place from which databases are reached: the kube context,
// namespace and deployment whose pod runs the connection script.
type Environment struct {
	Name       string
	Aliases    []string
	Context    string
	Namespace  string
	Deployment string
	// ConnectCommand runs in the pod with the instance appended; empty means the default.
	ConnectCommand []string
	// PortPattern finds the remote port in the pod's log; empty means the default.
	PortPattern string
	// ConnectWait bounds how long a connection waits for a reconnecting forward; 0: 30 s.
	ConnectWait time.Duration
	// IdleTimeout stops a forward after that long with no open connection; 0: never.
	IdleTimeout time.Duration
	// MaxAge stops a forward that long after it started; 0: never.
	MaxAge time.Duration
	// Login is what the environment's databases log in with, unless theirs says otherwise.
	Login     Login
	Databases map[string]*Database
	// Source says where the environment was defined: "built-in" or "FILE:LINE".
	Source string
}

// Database is one Cloud SQL instance reachable from an Environment.
type Database struct {
	Name      string
	Aliases   []string
	Instance  string // Cloud SQL connection name, project:region:instance
	LocalPort int    // preferred local port; the engine's default when the config gives none
	// PodPort is the pod port on which the instance's proxy always listens (a sidecar): the
	// forward streams there with no connection command. 0: ask the connection command.
	PodPort int
	Engine  string // mysql, postgres or sqlserver (see LookupEngine); "" until loaded: DefaultEngine
	// Login is the database's own settings over its environment's, with the default
	// PasswordTTL, once loaded.
	Login  Login
	Source string
}

// Login is how the front door logs the owner's clients in to a database when they bring no
// password of their own (see rpc.ForwardParams), and the user `rhizome connect` names. The
// zero value logs no one in.
type Login struct {
	User string // the database user; "": the client's own
	// PasswordCommand is run by the agent, argv with no shell, for the password; empty: the
	// door logs no one in.
	PasswordCommand []string
	// PasswordTTL is how long the agent keeps a password; 0: it runs the command for every
	// connection. Loaded, it is DefaultPasswordTTL unless the config says.
	PasswordTTL time.Duration
	ttlSet      bool // the config gave password-ttl, so 0 means 0
}

// DefaultPasswordTTL is how long the agent keeps a password from a password-command when the
// config does not say: Cloud SQL's IAM login tokens live an hour, so a few minutes is well
// inside one and spares the command on most connections.
const DefaultPasswordTTL = 5 * time.Minute

// over returns l's settings where it has them, else base's: a database's login over its
// environment's.
func (l Login) over(base Login) Login {
	if l.User == "" {
		l.User = base.User
	}
	if len(l.PasswordCommand) == 0 {
		l.PasswordCommand = base.PasswordCommand
	}
	if !l.ttlSet {
		l.PasswordTTL, l.ttlSet = base.PasswordTTL, base.ttlSet
	}
	return l
}

// withDefaults gives l the default PasswordTTL when the config set none.
func (l Login) withDefaults() Login {
	if !l.ttlSet {
		l.PasswordTTL, l.ttlSet = DefaultPasswordTTL, true
	}
	return l
}

// DefaultConnectCommand is what runs in the pod when an environment does not say: the
// connection script the built-in environment's pods carry.
var DefaultConnectCommand = []string{"/usr/local/bin/cloudsql-connect"}

// builtins returns the seed's environment, fresh each time so callers may change it.
func builtins() map[string]*Environment {
	return map[string]*Environment{
		"na-prod": {
			Name:       "na-prod",
			Context:    "gke_clover-prod-kubernetes_us-central1_na-prod-us-central1-cluster",
			Namespace:  "gke-cloudsql-access",
			Deployment: "gke-cloudsql-access",
			Source:     "built-in",
			Databases: map[string]*Database{
				"bookkeeper": {
					Name:      "bookkeeper",
					Instance:  "clover-prod-databases:us-central1:billing-bookkeeper",
					LocalPort: DefaultLocalPort,
					Source:    "built-in",
				},
			},
		},
	}
}

// Catalog is the set of environments a user can name: the built-in ones overlaid with the
// user's config file.
type Catalog struct {
	envs    map[string]*Environment
	aliases map[string]string // where the config gave each alias, FILE:LINE
}

// aliasAt records where the config gives alias a.
func (c *Catalog) aliasAt(a, path string, line int) {
	if c.aliases == nil {
		c.aliases = map[string]string{}
	}
	c.aliases[a] = fmt.Sprintf("%s:%d", path, line)
}

// Names lists the environments' names, sorted.
func (c *Catalog) Names() []string {
	names := make([]string, 0, len(c.envs))
	for n := range c.envs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Environments lists the environments, sorted by name.
func (c *Catalog) Environments() []*Environment {
	out := make([]*Environment, 0, len(c.envs))
	for _, n := range c.Names() {
		out = append(out, c.envs[n])
	}
	return out
}

// Environment finds an environment by name or alias.
func (c *Catalog) Environment(name string) (*Environment, error) {
	if e, ok := c.envs[name]; ok {
		return e, nil
	}
	for _, e := range c.envs {
		for _, a := range e.Aliases {
			if a == name {
				return e, nil
			}
		}
	}
	return nil, unknown("no environment %q; known: %s", name, strings.Join(c.Names(), ", "))
}

// Resolve finds a database of an environment, each by name or alias.
func (c *Catalog) Resolve(envName, dbName string) (*Environment, *Database, error) {
	e, err := c.Environment(envName)
	if err != nil {
		return nil, nil, err
	}
	db, err := e.Database(dbName)
	if err != nil {
		return nil, nil, err
	}
	return e, db, nil
}

// DatabaseNames lists e's databases, sorted.
func (e *Environment) DatabaseNames() []string {
	names := make([]string, 0, len(e.Databases))
	for n := range e.Databases {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Database finds one of e's databases by name or alias.
func (e *Environment) Database(name string) (*Database, error) {
	if db, ok := e.Databases[name]; ok {
		return db, nil
	}
	for _, db := range e.Databases {
		for _, a := range db.Aliases {
			if a == name {
				return db, nil
			}
		}
	}
	return nil, unknown("environment %s has no database %q; it has: %s", e.Name, name, strings.Join(e.DatabaseNames(), ", "))
}

// Connect returns the command to run in the pod for this environment.
func (e *Environment) Connect() []string {
	if len(e.ConnectCommand) > 0 {
		return e.ConnectCommand
	}
	return DefaultConnectCommand
}
