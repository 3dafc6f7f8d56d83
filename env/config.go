package env

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ConfigFile is the user's environment file, in ssh_config's style:
//
//	# ~/.config/rhizome/config
//	environment eu-prod
//	    alias      eu
//	    context    gke_clover-prod-kubernetes_europe-west1_eu-prod-cluster
//	    namespace  gke-cloudsql-access
//	    deployment gke-cloudsql-access
//	    idle-timeout 2h      # stop a forward nobody has used for that long
//
//	    database bookkeeper
//	        alias    bk
//	        instance clover-prod-databases:europe-west1:billing-bookkeeper
//	        port     3307
//	    database ledger
//	        engine   postgres   # mysql (the default), postgres or sqlserver
//	        instance clover-prod-databases:europe-west1:ledger
//	        user     alice@example.com                      # the front door logs in as alice
//	        password-command gcloud sql generate-login-token # with this password (argv, no shell)
//	        password-ttl 5m                                  # kept 5m (the default; 0: never kept)
//
// An environment with a built-in's name overrides that one's settings (the ones it states).
// Indentation is for people; the keywords decide what belongs where. `include PATH…` reads
// other files in place (see include.go), so a team can keep its environments in a repository.
func ConfigFile() string { return filepath.Join(ConfigDir(), "config") }

// Load reads the built-in environments and the user's config file, if it exists.
func Load() (*Catalog, error) {
	c := &Catalog{envs: builtins()}
	path := ConfigFile()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, c.validate()
	}
	if err != nil {
		return nil, fmt.Errorf("reading environments: %w", err)
	}
	defer f.Close()
	if err := c.parse(path, f); err != nil {
		return nil, err
	}
	return c, nil
}

// parse overlays the environments of the config file at path (read from r) and the files it
// includes on c, then checks that each says all it must. Errors name the file and line.
func (c *Catalog) parse(path string, r io.Reader) error {
	if err := c.parseFile(path, r, nil); err != nil {
		// With the file's own mistakes, only the aliases' too: what a line left unset (a
		// context with a typo) would otherwise be reported twice.
		return errors.Join(err, c.checkAliases())
	}
	return c.validate()
}

// MaxForwardName bounds a forward's name, ENV/DB, which every log line and ps row repeats; the
// agent refuses longer ones (forward's maxNameLen must stay equal to it), so the config refuses
// them first.
const MaxForwardName = 200

// nameRule is what environment, database and alias names may look like, in words: they end up
// on command lines and in completion, so no spaces, quotes or leading dashes.
const nameRule = "use ASCII letters, digits, '.', '_' and '-', starting with a letter or digit"

// validName reports whether v follows nameRule.
func validName(v string) bool {
	for i, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || i > 0 && strings.ContainsRune("._-", r)) {
			return false
		}
	}
	return v != ""
}

// keywords are the config file's keywords, in the order the README introduces them.
var keywords = []string{"include", "environment", "alias", "context", "namespace", "deployment", "connect-command",
	"port-pattern", "connect-wait", "idle-timeout", "max-age", "database", "instance", "port", "pod-port", "engine", "user", "password-command", "password-ttl"}

// parseFile overlays the environments of one config file on c. including holds the files
// whose include lines led here, outermost first, to refuse a cycle.
func (c *Catalog) parseFile(path string, r io.Reader, including []string) error {
	sc := bufio.NewScanner(r)
	var env *Environment
	var db *Database
	lineNo := 0
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", path, lineNo, fmt.Sprintf(format, args...))
	}
	// Every mistake of the file is reported, not only the first.
	var errs []error
	// first remembers where this file set a setting of an environment or a database, so a
	// second line for it is a mistake rather than a silent override.
	first := map[string]int{}
	once := func(what string) error {
		if at, ok := first[what]; ok {
			return fail("%s is given twice (first on line %d): keep one", what, at)
		}
		first[what] = lineNo
		return nil
	}
	for sc.Scan() {
		lineNo++
		fields := strings.Fields(stripComment(sc.Text()))
		if len(fields) == 0 {
			continue
		}
		key, args := strings.ToLower(fields[0]), fields[1:]
		one := func() (string, error) {
			if len(args) != 1 {
				return "", fail("%s takes one value, got %d", key, len(args))
			}
			return args[0], nil
		}
		if err := func() error {
			switch key {
			case "include":
				if len(args) == 0 {
					return fail("include needs a PATH (a glob, ~ or relative to this file)")
				}
				if err := c.include(path, args, append(including, path)); err != nil {
					if located := (*includedError)(nil); errors.As(err, &located) {
						return located.err
					}
					return fail("%v", err)
				}
				env, db = nil, nil // an included file does not continue this file's environment
			case "environment":
				name, err := one()
				if err != nil {
					return err
				}
				if !validName(name) {
					env, db = &Environment{Name: name, Databases: map[string]*Database{}}, nil // later lines are its
					return fail("environment name %q: %s", name, nameRule)
				}
				env, db = c.envs[name], nil
				if env == nil {
					env = &Environment{Name: name, Databases: map[string]*Database{}}
					c.envs[name] = env
				}
				env.Source = fmt.Sprintf("%s:%d", path, lineNo)
			case "database":
				if env == nil {
					return fail("database outside an environment: put it under an environment line")
				}
				name, err := one()
				if err != nil {
					return err
				}
				if !validName(name) {
					db = &Database{Name: name} // later lines are its
					return fail("database name %q: %s", name, nameRule)
				}
				if len(env.Name)+1+len(name) > MaxForwardName {
					db = &Database{Name: name}
					return fail("database %s: the forward's name %s/%s has %d characters, more than the %d the agent takes: shorten one of the names",
						name, env.Name, name, len(env.Name)+1+len(name), MaxForwardName)
				}
				if err := once("database " + name + " of environment " + env.Name); err != nil {
					db = &Database{Name: name}
					return err
				}
				db = env.Databases[name]
				if db == nil {
					db = &Database{Name: name}
					env.Databases[name] = db
				}
				db.Source = fmt.Sprintf("%s:%d", path, lineNo)
			case "alias":
				if env == nil {
					return fail("alias outside an environment")
				}
				for _, a := range args {
					if !validName(a) {
						return fail("alias %q: %s", a, nameRule)
					}
					c.aliasAt(a, path, lineNo)
				}
				if db != nil {
					db.Aliases = append(db.Aliases, args...)
				} else {
					env.Aliases = append(env.Aliases, args...)
				}
			case "context", "namespace", "deployment":
				if env == nil || db != nil {
					return fail("%s belongs to an environment, before its databases", key)
				}
				v, err := one()
				if err != nil {
					return err
				}
				check := CheckKubeObject
				if key == "context" {
					check = CheckContext
				}
				if err := check(v); err != nil {
					return fail("%s %q is not a name kubectl accepts: %v", key, v, err)
				}
				if err := once(key + " of environment " + env.Name); err != nil {
					return err
				}
				*map[string]*string{"context": &env.Context, "namespace": &env.Namespace, "deployment": &env.Deployment}[key] = v
			case "connect-command":
				if env == nil || db != nil {
					return fail("connect-command belongs to an environment, before its databases")
				}
				if err := CheckConnectCommand(args); err != nil {
					return fail("connect-command %v", err)
				}
				env.ConnectCommand = args
			case "port-pattern":
				if env == nil || db != nil {
					return fail("port-pattern belongs to an environment, before its databases")
				}
				pattern := strings.TrimSpace(strings.TrimPrefix(stripComment(sc.Text()), fields[0]))
				re, err := regexp.Compile(pattern)
				if err != nil || re.NumSubexp() < 1 {
					return fail("port-pattern %q must be a regular expression with one group for the port", pattern)
				}
				env.PortPattern = pattern
			case "connect-wait", "idle-timeout", "max-age":
				if env == nil || db != nil {
					return fail("%s belongs to an environment, before its databases", key)
				}
				v, err := one()
				if err != nil {
					return err
				}
				d, err := time.ParseDuration(v)
				switch {
				case key == "connect-wait" && (err != nil || d <= 0):
					return fail("connect-wait %q: want a Go duration such as 10s or 2m", v)
				case err != nil || d < 0:
					return fail("%s %q: want a Go duration such as 90s, 15m or 2h (0 turns it off)", key, v)
				}
				*map[string]*time.Duration{"connect-wait": &env.ConnectWait, "idle-timeout": &env.IdleTimeout, "max-age": &env.MaxAge}[key] = d
			case "instance":
				if db == nil {
					return fail("instance belongs to a database")
				}
				v, err := one()
				if err != nil {
					return err
				}
				if err := CheckInstance(v); err != nil {
					return fail("instance %q is not a Cloud SQL connection name: %v", v, err)
				}
				if err := once("instance of database " + env.Name + "/" + db.Name); err != nil {
					return err
				}
				db.Instance = v
			case "port", "pod-port":
				if db == nil {
					return fail("%s belongs to a database", key)
				}
				v, err := one()
				if err != nil {
					return err
				}
				port, err := strconv.Atoi(v)
				if err != nil {
					port = 0 // not a number: CheckPort says what is wanted
				}
				if err := CheckPort(port); err != nil {
					return fail("%s %q: %v", key, v, err)
				}
				if key == "port" {
					db.LocalPort = port
					break
				}
				if err := once("pod-port of database " + env.Name + "/" + db.Name); err != nil {
					return err
				}
				db.PodPort = port
			case "engine":
				if db == nil {
					return fail("engine belongs to a database")
				}
				v, err := one()
				if err != nil {
					return err
				}
				if _, err := LookupEngine(v); err != nil {
					return fail("%v", err)
				}
				db.Engine = v
			case "user", "password-command", "password-ttl":
				if env == nil {
					return fail("%s belongs to an environment or a database", key)
				}
				login, of := &env.Login, "environment "+env.Name
				if db != nil {
					login, of = &db.Login, "database "+env.Name+"/"+db.Name
				}
				return parseLogin(login, key, args, func(what string) error { return once(what + " of " + of) }, fail)
			default:
				if near := Closest(fields[0], keywords); near != "" {
					return fail("unknown keyword %q: did you mean %q?", fields[0], near)
				}
				return fail("unknown keyword %q; known: %s", fields[0], strings.Join(keywords, ", "))
			}
			return nil
		}(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return errors.Join(errs...)
}

// parseLogin reads one line of a login's settings, key with its args, into login. once
// refuses a setting given twice; fail words an error at the line.
func parseLogin(login *Login, key string, args []string, once func(string) error, fail func(string, ...any) error) error {
	if key != "password-command" && len(args) != 1 {
		return fail("%s takes one value, got %d", key, len(args))
	}
	switch key {
	case "user":
		if err := CheckUser(args[0]); err != nil {
			return fail("user %q: %v", args[0], err)
		}
		login.User = args[0]
	case "password-command":
		if err := CheckPasswordCommand(args); err != nil {
			return fail("password-command %v", err)
		}
		login.PasswordCommand = args
	case "password-ttl":
		d, err := time.ParseDuration(args[0])
		if err != nil || d < 0 {
			return fail("password-ttl %q: want a Go duration such as 5m or 1h (0: run the password-command for every connection)", args[0])
		}
		login.PasswordTTL, login.ttlSet = d, true
	}
	return once(key)
}

// validate checks that every environment and database says all it must, and that no alias
// takes a name that is already another's. It reports every mistake, not only the first.
func (c *Catalog) validate() error {
	errs := []error{c.checkAliases()}
	for _, e := range c.Environments() {
		for _, what := range []string{"context", "namespace", "deployment"} {
			if v := map[string]string{"context": e.Context, "namespace": e.Namespace, "deployment": e.Deployment}[what]; v == "" {
				errs = append(errs, fmt.Errorf("%s: environment %s has no %s", e.Source, e.Name, what))
			}
		}
		for _, n := range e.DatabaseNames() {
			db := e.Databases[n]
			if db.Instance == "" {
				errs = append(errs, fmt.Errorf("%s: database %s of environment %s has no instance", db.Source, db.Name, e.Name))
				continue
			}
			engine, err := LookupEngine(db.Engine)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: database %s of environment %s: %w", db.Source, db.Name, e.Name, err))
				continue
			}
			db.Engine = engine.Name
			if db.LocalPort == 0 {
				db.LocalPort = engine.DefaultPort
			}
			db.Login = db.Login.over(e.Login).withDefaults()
		}
	}
	return errors.Join(errs...)
}

// checkAliases refuses an alias that is already the name or alias of another environment (or,
// for a database's alias, of another database of its environment): which one it leads to would
// depend on the order of reading.
func (c *Catalog) checkAliases() error {
	var errs []error
	owner := map[string]*Environment{} // every environment name and alias, to whom it leads
	for _, e := range c.Environments() {
		owner[e.Name] = e
	}
	for _, e := range c.Environments() {
		for _, a := range e.Aliases {
			if other := owner[a]; other != nil && other != e {
				errs = append(errs, fmt.Errorf("%s: alias %s of environment %s is already %s: rename the alias",
					c.aliases[a], a, e.Name, nameOf(other, a)))
				continue
			}
			owner[a] = e
		}
		dbOwner := map[string]*Database{}
		for _, n := range e.DatabaseNames() {
			dbOwner[n] = e.Databases[n]
		}
		for _, n := range e.DatabaseNames() {
			db := e.Databases[n]
			for _, a := range db.Aliases {
				if other := dbOwner[a]; other != nil && other != db {
					errs = append(errs, fmt.Errorf("%s: alias %s of database %s/%s is already the database %s of %s: rename the alias",
						c.aliases[a], a, e.Name, db.Name, other.Name, e.Name))
					continue
				}
				dbOwner[a] = db
			}
		}
	}
	return errors.Join(errs...)
}

// nameOf says what name is to e: its name or an alias of it.
func nameOf(e *Environment, name string) string {
	if e.Name == name {
		return "the environment " + name
	}
	return "an alias of the environment " + e.Name
}

func stripComment(line string) string {
	if i := strings.IndexByte(line, '#'); i >= 0 {
		return line[:i]
	}
	return line
}
