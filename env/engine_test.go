package env

import (
	"slices"
	"strings"
	"testing"

	"github.com/rhizome-dev/rhizome/rpc"
)

func TestEngineConfig(t *testing.T) {
	c, err := parseString(t, `
environment eu-prod
    context gke_x_europe-west1_eu
    namespace ns
    deployment dep
    database books
        instance proj:europe-west1:bk
    database ledger
        engine postgres
        instance proj:europe-west1:ledger
    database payroll
        engine sqlserver
        instance proj:europe-west1:payroll
    database archive
        engine postgres
        port 6543
        instance proj:europe-west1:archive
`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		db, engine string
		port       int
	}{
		{"books", "mysql", 3306},
		{"ledger", "postgres", 5432},
		{"payroll", "sqlserver", 1433},
		{"archive", "postgres", 6543},
	}
	for _, tt := range tests {
		_, db, err := c.Resolve("eu-prod", tt.db)
		if err != nil || db.Engine != tt.engine || db.LocalPort != tt.port {
			t.Errorf("Resolve(eu-prod, %s) = %+v, %v; want engine %s on port %d", tt.db, db, err, tt.engine, tt.port)
		}
	}
	_, bk, _ := c.Resolve("na-prod", "bookkeeper")
	if bk.Engine != "mysql" {
		t.Errorf("built-in bookkeeper engine = %q, want mysql", bk.Engine)
	}
}

func TestEngineConfigErrors(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"unknown", "environment x\n database db\n  engine oracle\n", `config:3: unknown engine "oracle"; valid: mysql, postgres, sqlserver`},
		{"outside database", "environment x\n engine postgres\n", "config:2: engine belongs to a database"},
		{"two values", "environment x\n database db\n  engine mysql postgres\n", "config:3: engine takes one value, got 2"},
	}
	for _, tt := range tests {
		if _, err := parseString(t, tt.text); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: parse(%q) = %v, want error containing %q", tt.name, tt.text, err, tt.want)
		}
	}
}

func TestEngineTable(t *testing.T) {
	if got := EngineNames(); !slices.Equal(got, []string{"mysql", "postgres", "sqlserver"}) {
		t.Errorf("EngineNames() = %v", got)
	}
	if e, err := LookupEngine(""); err != nil || e.Name != DefaultEngine {
		t.Errorf(`LookupEngine("") = %+v, %v; want the default`, e, err)
	}
	tests := []struct {
		engine, url, socket, host string
		vars                      []string
	}{
		{"mysql", "mysql://127.0.0.1:3310", "/run/f/bk.sock", "/run/f/bk.sock",
			[]string{"DATABASE_URL=mysql://127.0.0.1:3310", "MYSQL_HOST=127.0.0.1", "MYSQL_TCP_PORT=3310"}},
		{"postgres", "postgres://127.0.0.1:3310", "/run/f/bk/.s.PGSQL.3310", "/run/f/bk",
			[]string{"DATABASE_URL=postgres://127.0.0.1:3310", "PGHOST=127.0.0.1", "PGPORT=3310"}},
		{"sqlserver", "sqlserver://127.0.0.1:3310", "/run/f/bk.sock", "/run/f/bk.sock",
			[]string{"DATABASE_URL=sqlserver://127.0.0.1:3310", "SQLCMDSERVER=tcp:127.0.0.1,3310"}},
	}
	for _, tt := range tests {
		e, err := LookupEngine(tt.engine)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.URL(3310); got != tt.url {
			t.Errorf("%s URL(3310) = %q, want %q", tt.engine, got, tt.url)
		}
		path := e.SocketPath("/run/f", "bk", 3310)
		if path != tt.socket || e.SocketHost(path) != tt.host {
			t.Errorf("%s SocketPath = %q (host %q), want %q (host %q)", tt.engine, path, e.SocketHost(path), tt.socket, tt.host)
		}
		if got := e.ExecEnv(rpc.Handle{ConnectionString: tt.url, LocalPort: 3310}); !slices.Equal(got, tt.vars) {
			t.Errorf("%s ExecEnv = %v, want %v", tt.engine, got, tt.vars)
		}
	}
}

func TestExecEnvWithSocket(t *testing.T) {
	h := rpc.Handle{ConnectionString: "mysql://127.0.0.1:3306", LocalPort: 3306, UnixSocket: "/run/f/bk.sock"}
	mysql, _ := LookupEngine(MySQL)
	if got, want := mysql.ExecEnv(h), []string{"DATABASE_URL=mysql://127.0.0.1:3306", "MYSQL_HOST=127.0.0.1", "MYSQL_TCP_PORT=3306", "MYSQL_UNIX_PORT=/run/f/bk.sock"}; !slices.Equal(got, want) {
		t.Errorf("mysql ExecEnv(with socket) = %v, want %v", got, want)
	}
	h = rpc.Handle{ConnectionString: "postgres://127.0.0.1:5432", LocalPort: 5432, UnixSocket: "/run/f/bk/.s.PGSQL.5432"}
	pg, _ := LookupEngine(Postgres)
	if got, want := pg.ExecEnv(h), []string{"DATABASE_URL=postgres://127.0.0.1:5432", "PGHOST=127.0.0.1", "PGPORT=5432"}; !slices.Equal(got, want) {
		t.Errorf("postgres ExecEnv(with socket) = %v, want %v (PGHOST stays on TCP)", got, want)
	}
}
