package env

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/rhizome-dev/rhizome/rpc"
)

// onPath is a lookPath that finds the programs named, in /usr/bin.
func onPath(programs ...string) func(string) (string, error) {
	return func(name string) (string, error) {
		if slices.Contains(programs, name) {
			return "/usr/bin/" + name, nil
		}
		return "", exec.ErrNotFound
	}
}

func TestClientCommand(t *testing.T) {
	mysqlSocket := rpc.Handle{LocalPort: 3307, UnixSocket: "/run/f/na-prod-bk.sock"}
	pgSocket := rpc.Handle{LocalPort: 5433, UnixSocket: "/run/f/na-prod-ledger/.s.PGSQL.5433"}
	tests := []struct {
		name, engine, user string
		h                  rpc.Handle
		path               []string
		args               []string
		want               []string
	}{
		{"mariadb on the socket", MySQL, "", mysqlSocket, []string{"mariadb", "mysql"}, nil,
			[]string{"/usr/bin/mariadb", "--protocol=socket", "--socket=/run/f/na-prod-bk.sock"}},
		{"mysql when no mariadb, as a user, with args", MySQL, "alice@example.com", mysqlSocket, []string{"mysql"}, []string{"-e", "SELECT 1"},
			[]string{"/usr/bin/mysql", "--protocol=socket", "--socket=/run/f/na-prod-bk.sock", "--user=alice@example.com", "-e", "SELECT 1"}},
		{"mariadb on TCP without a socket", MySQL, "", rpc.Handle{LocalPort: 3307}, []string{"mariadb"}, nil,
			[]string{"/usr/bin/mariadb", "--protocol=tcp", "--host=127.0.0.1", "--port=3307"}},
		{"psql on the socket's directory", Postgres, "bob", pgSocket, []string{"psql"}, []string{"-c", "SELECT 1"},
			[]string{"/usr/bin/psql", "--host=/run/f/na-prod-ledger", "--port=5433", "--username=bob", "-c", "SELECT 1"}},
		{"psql on TCP without a socket", Postgres, "", rpc.Handle{LocalPort: 5433}, []string{"psql"}, nil,
			[]string{"/usr/bin/psql", "--host=127.0.0.1", "--port=5433"}},
		{"sqlcmd always on TCP", SQLServer, "sa", rpc.Handle{LocalPort: 1434, UnixSocket: "/run/f/x.sock"}, []string{"sqlcmd"}, []string{"-Q", "SELECT 1"},
			[]string{"/usr/bin/sqlcmd", "-S", "tcp:127.0.0.1,1434", "-U", "sa", "-Q", "SELECT 1"}},
	}
	for _, tt := range tests {
		e, _ := LookupEngine(tt.engine)
		path, err := e.FindClient(onPath(tt.path...))
		if err != nil {
			t.Errorf("%s: FindClient = %v", tt.name, err)
			continue
		}
		if got := e.ClientCommand(path, tt.h, tt.user, tt.args); !slices.Equal(got, tt.want) {
			t.Errorf("%s: ClientCommand = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestClientMissing(t *testing.T) {
	for _, tt := range []struct{ engine, want string }{
		{MySQL, "neither mariadb nor mysql is on PATH: install the MariaDB or MySQL client (Debian/Ubuntu: apt install mariadb-client"},
		{Postgres, "psql is not on PATH: install the PostgreSQL client (Debian/Ubuntu: apt install postgresql-client"},
		{SQLServer, "sqlcmd is not on PATH: install sqlcmd"},
	} {
		e, _ := LookupEngine(tt.engine)
		got, err := e.FindClient(onPath())
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: FindClient with nothing on PATH = %q, %v; want an error starting %q", tt.engine, got, err, tt.want)
		}
	}
}

// TestEveryEngineHasAClient keeps the table whole: an engine added without a client fails.
func TestEveryEngineHasAClient(t *testing.T) {
	for _, e := range engines {
		if len(e.client.programs) == 0 || e.client.install == "" || e.client.args == nil {
			t.Errorf("engine %s has no client for rhizome connect", e.Name)
		}
	}
}
