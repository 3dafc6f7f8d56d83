package mysql

import (
	"database/sql"
	"errors"
	"net"
	"strings"
	"testing"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/rhizome-dev/rhizome/forward/engine/wire/wiretest"
	"github.com/rhizome-dev/rhizome/forward/internal/dbtest"
)

// TestOpenMariaDB logs real clients, the mariadb client and go-sql-driver/mysql, in to a real
// MariaDB server through a door that calls Open: with no password the door logs them in, with
// their own they pass through, and when the door's login fails they read why.
func TestOpenMariaDB(t *testing.T) {
	db := dbtest.MariaDB(t)
	dial := wiretest.DialTo("tcp", db.Addr)
	const wantUser = "alice@%\tapp"

	t.Run("door logs in the mariadb client", func(t *testing.T) {
		for _, network := range []string{"tcp", "unix"} {
			p := &wiretest.Passwords{Kept: db.Password}
			d := wiretest.StartDoor(t, network, Open, dial, p.Login(db.User, passwordCommand))
			out, err := mariadbClient(t, d.Addr(), "-u", "someone-else", db.Database, "-e", "SELECT CURRENT_USER(), DATABASE()")
			if err != nil || out != wantUser {
				t.Errorf("over %s: mariadb with no password = %q, %v; want %q", network, out, err, wantUser)
			}
			if all, fresh := p.Count(); all != 1 || fresh != 0 {
				t.Errorf("over %s: password command called %d times (%d fresh), want once, not fresh", network, all, fresh)
			}
		}
	})

	t.Run("door keeps the client's user when the login names none", func(t *testing.T) {
		p := &wiretest.Passwords{Kept: db.Password}
		d := wiretest.StartDoor(t, "tcp", Open, dial, p.Login("", passwordCommand))
		out, err := mariadbClient(t, d.Addr(), "-u", db.User, db.Database, "-e", "SELECT CURRENT_USER(), DATABASE()")
		if err != nil || out != wantUser {
			t.Errorf("mariadb as %s with no password = %q, %v; want %q", db.User, out, err, wantUser)
		}
	})

	t.Run("door logs in go-sql-driver", func(t *testing.T) {
		for _, network := range []string{"tcp", "unix"} {
			p := &wiretest.Passwords{Kept: db.Password}
			d := wiretest.StartDoor(t, network, Open, dial, p.Login(db.User, passwordCommand))
			if got, err := goQuery(t, goDSN(d.Addr(), "someone-else", "", db.Database)); err != nil || got != "alice@%\tapp" {
				t.Errorf("over %s: go-sql-driver with no password = %q, %v; want %q", network, got, err, wantUser)
			}
		}
	})

	t.Run("own password passes through", func(t *testing.T) {
		p := &wiretest.Passwords{Err: errors.New("must not be called")}
		d := wiretest.StartDoor(t, "tcp", Open, dial, p.Login(db.User, passwordCommand))
		out, err := mariadbClient(t, d.Addr(), "-u", db.User, "-p"+db.Password, db.Database, "-e", "SELECT CURRENT_USER(), DATABASE()")
		if err != nil || out != wantUser {
			t.Errorf("mariadb with its own password = %q, %v; want %q", out, err, wantUser)
		}
		if got, err := goQuery(t, goDSN(d.Addr(), db.User, db.Password, db.Database)); err != nil || got != wantUser {
			t.Errorf("go-sql-driver with its own password = %q, %v; want %q", got, err, wantUser)
		}
		out, err = mariadbClient(t, d.Addr(), "-u", db.User, "-pwrong", "-e", "SELECT 1")
		if err == nil || !strings.Contains(out, "ERROR 1045 (28000): Access denied for user 'alice'") || strings.Contains(out, "rhizome") {
			t.Errorf("mariadb with a wrong password of its own = %q, %v; want the server's own access denied", out, err)
		}
		if all, _ := p.Count(); all != 0 {
			t.Errorf("password command called %d times for clients with their own password, want 0", all)
		}
	})

	t.Run("a fresh password after a denied one", func(t *testing.T) {
		p := &wiretest.Passwords{Kept: "expired", Fresh: db.Password}
		d := wiretest.StartDoor(t, "tcp", Open, dial, p.Login(db.User, passwordCommand))
		out, err := mariadbClient(t, d.Addr(), "-u", db.User, db.Database, "-e", "SELECT CURRENT_USER(), DATABASE()")
		if err != nil || out != wantUser {
			t.Errorf("mariadb with the kept password expired = %q, %v; want %q", out, err, wantUser)
		}
		if all, fresh := p.Count(); all != 2 || fresh != 1 {
			t.Errorf("password command called %d times (%d fresh), want twice, once fresh", all, fresh)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		p := &wiretest.Passwords{Kept: "wrong", Fresh: "still-wrong"}
		d := wiretest.StartDoor(t, "tcp", Open, dial, p.Login(db.User, passwordCommand))
		out, err := mariadbClient(t, d.Addr(), "-u", db.User, "-e", "SELECT 1")
		const want = "ERROR 1045 (28000): Access denied for user 'alice'@'127.0.0.1' (using password: YES): " +
			"rhizome logged in as alice with the password from password-command print-password, then with a fresh one"
		if err == nil || out != want {
			t.Errorf("mariadb with a wrong password from the door =\n%q, %v; want\n%q", out, err, want)
		}
		if all, fresh := p.Count(); all != 2 || fresh != 1 {
			t.Errorf("password command called %d times (%d fresh), want twice, once fresh", all, fresh)
		}
		_, err = goQuery(t, goDSN(d.Addr(), db.User, "", ""))
		var me *gomysql.MySQLError
		if !errors.As(err, &me) || me.Number != 1045 || !strings.Contains(me.Message, "rhizome logged in as alice") {
			t.Errorf("go-sql-driver with a wrong password from the door: %v; want error 1045 with rhizome's hint", err)
		}
		if all, fresh := p.Count(); all != 4 || fresh != 2 {
			t.Errorf("password command called %d times (%d fresh) for two clients, want 4, 2 fresh", all, fresh)
		}
	})

	t.Run("password command fails", func(t *testing.T) {
		p := &wiretest.Passwords{Err: errors.New(`password-command "gcloud sql generate-login-token" exited 1: ERROR: (gcloud) You do not currently have an active account`)}
		d := wiretest.StartDoor(t, "tcp", Open, dial, p.Login(db.User, passwordCommand))
		out, err := mariadbClient(t, d.Addr(), "-u", db.User, "-e", "SELECT 1")
		if err == nil || !strings.Contains(out, "ERROR 1045 (28000): rhizome could not get the password for alice: password-command \"gcloud sql generate-login-token\" exited 1: ERROR: (gcloud) You do not currently have an active account") {
			t.Errorf("mariadb when the password command fails = %q, %v; want its words", out, err)
		}
		_, err = goQuery(t, goDSN(d.Addr(), db.User, "", ""))
		if err == nil || !strings.Contains(err.Error(), "You do not currently have an active account") {
			t.Errorf("go-sql-driver when the password command fails: %v; want its words", err)
		}
	})
}

// TestOpenNoServer: a back end that accepts and closes, as a dead pod side does, makes Open
// fail with wire.ErrNoGreeting, after it told the client.
func TestOpenNoServer(t *testing.T) {
	closing, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer closing.Close()
	go func() {
		for {
			c, err := closing.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	p := &wiretest.Passwords{Kept: "x"}
	d := wiretest.StartDoor(t, "tcp", Open, wiretest.DialTo("tcp", closing.Addr().String()), p.Login("alice", passwordCommand))
	out, err := mariadbClient(t, d.Addr(), "-u", "alice", "-e", "SELECT 1")
	if err == nil || !strings.Contains(out, "ERROR 1105 (08001): rhizome: ") || !strings.Contains(out, "the connection closed before the server spoke") {
		t.Errorf("mariadb through a door with no server = %q, %v; want error 1105 saying the server closed", out, err)
	}
	if errs := d.Errors(); !isNoGreeting(errs) {
		t.Errorf("Open's errors = %v, want one wrapping wire.ErrNoGreeting", errs)
	}
}

// goQuery logs in with go-sql-driver/mysql at dsn and returns CURRENT_USER() and DATABASE(),
// tab-separated.
func goQuery(t testing.TB, dsn string) (string, error) {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var user string
	var database sql.NullString
	err = db.QueryRowContext(t.Context(), "SELECT CURRENT_USER(), DATABASE()").Scan(&user, &database)
	return user + "\t" + database.String, err
}
