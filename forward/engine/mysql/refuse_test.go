package mysql

import (
	"database/sql"
	"errors"
	"net"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/rhizome-dev/rhizome/forward/engine/wire"
	"github.com/rhizome-dev/rhizome/forward/internal/loopback"
)

// TestRefuseRealClients: the mariadb client and go-sql-driver/mysql, each with and without a
// password, print the refusal's words as they are, with the SQLSTATE that says whether to wait.
func TestRefuseRealClients(t *testing.T) {
	refusals := []struct {
		name  string
		r     wire.Refusal
		state string
	}{
		{"transient", wire.Refusal{
			Message:   "rhizome: na-prod/bookkeeper is reconnecting (attempt 7): the API server does not answer",
			Hint:      "check your network or VPN",
			Transient: true,
		}, "08001"},
		{"stopped", wire.Refusal{Message: "rhizome: na-prod/bookkeeper is stopped", Hint: "rhizome start na-prod/bookkeeper"}, "08004"},
		{"no hint", wire.Refusal{Message: "rhizome: na-prod/bookkeeper ended"}, "08004"},
	}
	for _, tc := range refusals {
		addr := loopback.Serve(t, func(c net.Conn) {
			if err := Refuse(c, tc.r); err != nil {
				t.Errorf("Refuse(%s) = %v", tc.name, err)
			}
		})
		want := "ERROR 1105 (" + tc.state + "): " + tc.r.Text()
		for _, args := range [][]string{{"-u", "alice"}, {"-u", "alice", "-psecret"}} {
			if out, err := mariadbClient(t, addr, append(args, "-e", "SELECT 1")...); err == nil || out != want {
				t.Errorf("mariadb %v refused (%s) = %q, %v; want %q", args, tc.name, out, err, want)
			}
		}
		for _, password := range []string{"", "secret"} {
			db, err := sql.Open("mysql", goDSN(addr, "alice", password, ""))
			if err != nil {
				t.Fatal(err)
			}
			err = db.PingContext(t.Context())
			db.Close()
			var me *gomysql.MySQLError
			if !errors.As(err, &me) || me.Number != 1105 || string(me.SQLState[:]) != tc.state || me.Message != tc.r.Text() {
				t.Errorf("go-sql-driver (password %q) refused (%s): %v; want error 1105 (%s): %s", password, tc.name, err, tc.state, tc.r.Text())
			}
		}
	}
}

// TestSimulatedServer: the real mariadb client reads the simulated server's words, not "Lost
// connection", and the probe still takes it for a MySQL server.
func TestSimulatedServer(t *testing.T) {
	addr := loopback.Serve(t, func(c net.Conn) { Simulate(c, 7) })
	const want = "ERROR 1105 (08004): this is rhizome's simulated forward: no MySQL server behind it"
	if out, err := mariadbClient(t, addr, "-u", "alice", "-e", "SELECT 1"); err == nil || out != want {
		t.Errorf("mariadb against the simulated server = %q, %v; want %q", out, err, want)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if version, err := Exchange(conn); err != nil || version != "8.0.0-rhizome-simulated" {
		t.Errorf("Exchange(simulated) = %q, %v; want 8.0.0-rhizome-simulated", version, err)
	}
}
