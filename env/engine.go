package env

import (
	"cmp"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rhizome-dev/rhizome/rpc"
)

// The database engines Cloud SQL runs, as the config's engine keyword and the wire spell them.
const (
	MySQL     = "mysql"
	Postgres  = "postgres"
	SQLServer = "sqlserver"
)

// DefaultEngine is a database's engine when the config does not say: the seed knew only MySQL.
const DefaultEngine = MySQL

// Engine holds the static facts about one database engine that the config, the forward and the
// CLI share. Get one with LookupEngine; the probes that prove a server of the engine answers
// live in forward, keyed by Name.
type Engine struct {
	Name        string // mysql, postgres, sqlserver
	Title       string // as people call it: MySQL, PostgreSQL, SQL Server
	DefaultPort int    // the local port when the config gives none: the engine's usual one
	Scheme      string // of the handle's connection string

	// socketDir: the Unix socket sits alone in a directory and clients name the directory,
	// as libpq does (psql -h DIR -p PORT opens DIR/.s.PGSQL.PORT).
	socketDir bool
	// socketName is the socket's file name for a local port.
	socketName func(base string, port int) string
	// vars are what the engine's own tools read to find the server at 127.0.0.1:port.
	vars func(port int) []string
	// socketVars are what they read to use the forward's Unix socket at path; nil: none.
	socketVars func(path string) []string
	// client is the engine's own command-line client, for rhizome connect.
	client client
}

// client is how to run an engine's own command-line client on a forward.
type client struct {
	programs []string // the first of them on PATH runs
	install  string   // what to install when none is
	// args point the client at the forward, as user ("": the client's own): at its Unix
	// socket, given as SocketHost gives it, or, with socket "", at 127.0.0.1:port.
	args func(socket string, port int, user string) []string
}

// engines is the one table of engines, the default first.
var engines = []Engine{
	{
		Name: MySQL, Title: "MySQL", DefaultPort: DefaultLocalPort, Scheme: "mysql",
		socketName: func(base string, _ int) string { return base + ".sock" },
		vars: func(port int) []string {
			return []string{"MYSQL_HOST=127.0.0.1", "MYSQL_TCP_PORT=" + strconv.Itoa(port)}
		},
		socketVars: func(path string) []string { return []string{"MYSQL_UNIX_PORT=" + path} },
		client: client{
			programs: []string{"mariadb", "mysql"},
			install:  "install the MariaDB or MySQL client (Debian/Ubuntu: apt install mariadb-client; macOS: brew install mariadb)",
			// --protocol, so that a host in an option file (~/.my.cnf) cannot send the client
			// elsewhere; the socket is also where every system lets the door log the client in.
			args: func(socket string, port int, user string) []string {
				args := []string{"--protocol=tcp", "--host=127.0.0.1", "--port=" + strconv.Itoa(port)}
				if socket != "" {
					args = []string{"--protocol=socket", "--socket=" + socket}
				}
				return withUser(args, "--user=", user)
			},
		},
	},
	{
		Name: Postgres, Title: "PostgreSQL", DefaultPort: 5432, Scheme: "postgres",
		socketDir:  true,
		socketName: func(_ string, port int) string { return ".s.PGSQL." + strconv.Itoa(port) },
		vars: func(port int) []string {
			return []string{"PGHOST=127.0.0.1", "PGPORT=" + strconv.Itoa(port)}
		},
		// No socketVars: PGHOST stays 127.0.0.1 even with a socket. libpq would take the
		// socket's directory there, but not every tool that reads PGHOST does (some paste it
		// into a URL), the TCP handle is the one every forward has, and DATABASE_URL names
		// it too. psql -h "$(rhizome forward --socket …)" is the way to the socket.
		client: client{
			programs: []string{"psql"},
			install:  "install the PostgreSQL client (Debian/Ubuntu: apt install postgresql-client; macOS: brew install libpq && brew link --force libpq)",
			// libpq takes the socket's directory as the host, and finds .s.PGSQL.PORT in it.
			args: func(socket string, port int, user string) []string {
				return withUser([]string{"--host=" + cmp.Or(socket, "127.0.0.1"), "--port=" + strconv.Itoa(port)}, "--username=", user)
			},
		},
	},
	{
		Name: SQLServer, Title: "SQL Server", DefaultPort: 1433, Scheme: "sqlserver",
		socketName: func(base string, _ int) string { return base + ".sock" },
		// sqlcmd (ODBC and go-sqlcmd) reads its -S from SQLCMDSERVER; "tcp:HOST,PORT" is its
		// spelling of a TCP endpoint.
		vars: func(port int) []string {
			return []string{"SQLCMDSERVER=" + sqlcmdServer(port)}
		},
		client: client{
			programs: []string{"sqlcmd"},
			install:  "install sqlcmd (macOS: brew install sqlcmd; Linux: Microsoft's packages, see https://learn.microsoft.com/sql/tools/sqlcmd/sqlcmd-utility)",
			// sqlcmd takes no Unix socket: always the TCP port.
			args: func(_ string, port int, user string) []string {
				return withUser([]string{"-S", sqlcmdServer(port)}, "-U", user)
			},
		},
	},
}

// sqlcmdServer is sqlcmd's spelling of the TCP endpoint 127.0.0.1:port (its -S, SQLCMDSERVER).
func sqlcmdServer(port int) string { return "tcp:127.0.0.1," + strconv.Itoa(port) }

// withUser adds the client's user option (flag and value in one word when flag ends in '=',
// two words otherwise) to args when user is set.
func withUser(args []string, flag, user string) []string {
	switch {
	case user == "":
		return args
	case strings.HasSuffix(flag, "="):
		return append(args, flag+user)
	}
	return append(args, flag, user)
}

// EngineNames lists the engines' names, the default first.
func EngineNames() []string {
	names := make([]string, len(engines))
	for i, e := range engines {
		names[i] = e.Name
	}
	return names
}

// LookupEngine returns the engine called name; "" means DefaultEngine. The error names the
// valid ones.
func LookupEngine(name string) (Engine, error) {
	if name == "" {
		name = DefaultEngine
	}
	for _, e := range engines {
		if e.Name == name {
			return e, nil
		}
	}
	return Engine{}, fmt.Errorf("unknown engine %q; valid: %s", name, strings.Join(EngineNames(), ", "))
}

// URL is the connection string of a handle on 127.0.0.1:port: mysql://127.0.0.1:3306.
func (e Engine) URL(port int) string {
	return e.Scheme + "://127.0.0.1:" + strconv.Itoa(port)
}

// ExecEnv is what `rhizome forward --exec` adds to the command's environment for h:
// DATABASE_URL for every engine, then the variables the engine's own tools read, for the TCP
// port and, when h has one, the Unix socket.
func (e Engine) ExecEnv(h rpc.Handle) []string {
	vars := append([]string{"DATABASE_URL=" + h.ConnectionString}, e.vars(h.LocalPort)...)
	if h.UnixSocket != "" && e.socketVars != nil {
		vars = append(vars, e.socketVars(h.UnixSocket)...)
	}
	return vars
}

// SocketPath is where the front door puts the Unix socket of a forward on local port port,
// given the agent's directory of forward sockets dir and a short, safe name of the forward,
// base. For PostgreSQL that is DIR/BASE/.s.PGSQL.PORT, a directory of its own, because libpq
// clients name the directory; for the others the file DIR/BASE.sock. The caller makes
// filepath.Dir of the result.
func (e Engine) SocketPath(dir, base string, port int) string {
	if e.socketDir {
		return filepath.Join(dir, base, e.socketName(base, port))
	}
	return filepath.Join(dir, e.socketName(base, port))
}

// SocketHost is what a client of the engine is given to reach the socket at path: its
// directory for PostgreSQL (PGHOST, psql -h), the path itself for the others.
func (e Engine) SocketHost(path string) string {
	if e.socketDir {
		return filepath.Dir(path)
	}
	return path
}

// FindClient returns the path of the engine's own client (mariadb or mysql, psql, sqlcmd): the
// first of its programs that lookPath (exec.LookPath) finds. The error says what to install.
func (e Engine) FindClient(lookPath func(string) (string, error)) (string, error) {
	for _, program := range e.client.programs {
		if path, err := lookPath(program); err == nil {
			return path, nil
		}
	}
	none := e.client.programs[0] + " is not"
	if n := len(e.client.programs); n > 1 {
		none = "neither " + strings.Join(e.client.programs[:n-1], ", ") + " nor " + e.client.programs[n-1] + " is"
	}
	return "", fmt.Errorf("%s on PATH: %s", none, e.client.install)
}

// ClientCommand is the command line of the engine's client at path (see FindClient) on the
// forward h: pointed at h's Unix socket where the client takes one, else at its TCP port, as
// user ("": the client's own), then args. It never carries a password: the front door logs the
// client in, or the client asks for one as it always does.
func (e Engine) ClientCommand(path string, h rpc.Handle, user string, args []string) []string {
	socket := ""
	if h.UnixSocket != "" {
		socket = e.SocketHost(h.UnixSocket)
	}
	return append(append([]string{path}, e.client.args(socket, h.LocalPort, user)...), args...)
}
