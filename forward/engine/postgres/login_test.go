package postgres_test

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rhizome-dev/rhizome/forward/engine/postgres"
	"github.com/rhizome-dev/rhizome/forward/engine/wire"
	"github.com/rhizome-dev/rhizome/forward/engine/wire/wiretest"
	"github.com/rhizome-dev/rhizome/forward/internal/dbtest"
)

// TestLoginAgainstPostgres runs the door's login with the real psql and pgx against a real
// PostgreSQL server, for each password method, and its failures as a client sees them.
func TestLoginAgainstPostgres(t *testing.T) {
	s := dbtest.Postgres(t)
	dial := wiretest.DialTo("tcp", s.Addr)
	var secrets []string
	for _, u := range s.Users {
		secrets = append(secrets, u.Password)
	}
	conninfo := func(d *wiretest.Door, user string) string {
		return "host=127.0.0.1 port=" + d.Port() + " user=" + user + " dbname=postgres"
	}

	for _, u := range s.Users {
		t.Run("psql/"+u.Method, func(t *testing.T) {
			pw := &wiretest.Passwords{Kept: u.Password}
			d := wiretest.StartDoor(t, "tcp", postgres.Open, dial, pw.Login(u.Name, passwordCommand))
			out, err := psqlCmd(t, conninfo(d, u.Name), "SELECT current_user")
			if err != nil || out != u.Name {
				t.Errorf("psql as %s with no password through the door: %v\n%s", u.Name, err, out)
			}
			if got := pw.Calls(); !slices.Equal(got, []bool{false}) {
				t.Errorf("Password calls (fresh?) = %v, want [false]", got)
			}
		})
		t.Run("pgx/"+u.Method, func(t *testing.T) {
			pw := &wiretest.Passwords{Kept: u.Password}
			// No user in the login: the door logs in as the user the client names.
			d := wiretest.StartDoor(t, "tcp", postgres.Open, dial, pw.Login("", passwordCommand))
			conn, err := pgx.Connect(t.Context(), conninfo(d, u.Name))
			if err != nil {
				t.Fatalf("pgx as %s with no password through the door: %v", u.Name, err)
			}
			defer conn.Close(t.Context())
			var got string
			if err := conn.QueryRow(t.Context(), "SELECT current_user").Scan(&got); err != nil || got != u.Name {
				t.Errorf("SELECT current_user = %q, %v; want %q", got, err, u.Name)
			}
		})
	}

	t.Run("another user brings a password", func(t *testing.T) {
		owner, other := s.User("scram-sha-256"), s.User("md5")
		pw := &wiretest.Passwords{Kept: owner.Password}
		d := wiretest.StartDoor(t, "tcp", postgres.Open, dial, pw.Login(owner.Name, passwordCommand))
		out, err := psqlCmd(t, conninfo(d, other.Name)+" password="+other.Password, "SELECT current_user")
		if err != nil || out != other.Name {
			t.Errorf("psql as %s with its password through the door: %v\n%s", other.Name, err, out)
		}
		conn, err := pgx.Connect(t.Context(), conninfo(d, other.Name)+" password="+other.Password)
		if err != nil {
			t.Fatalf("pgx as %s with its password through the door: %v", other.Name, err)
		}
		conn.Close(t.Context())
		// Without one, the server's request reaches the client, which has no answer.
		if out, err := psqlCmd(t, conninfo(d, other.Name), "SELECT 1"); err == nil || !strings.Contains(out, "no password supplied") {
			t.Errorf("psql as %s without a password through the door: %v\n%s", other.Name, err, out)
		}
		if got := pw.Calls(); len(got) != 0 {
			t.Errorf("Password calls = %v, want none: the client logs in itself", got)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		u := s.User("md5")
		pw := &wiretest.Passwords{Kept: "stale", Fresh: "still-wrong"}
		d := wiretest.StartDoor(t, "tcp", postgres.Open, dial, pw.Login(u.Name, passwordCommand))
		out, err := psqlCmd(t, conninfo(d, u.Name), "SELECT 1")
		if err == nil || !strings.Contains(out, `FATAL:  password authentication failed for user "rz_md5"`) ||
			!strings.Contains(out, `HINT:  rhizome logged in as "rz_md5" with the password, kept and fresh, from password-command vault read db/test`) {
			t.Errorf("psql with a wrong password from the login: %v\n%s", err, out)
		}
		if got := pw.Calls(); !slices.Equal(got, []bool{false, true}) {
			t.Errorf("Password calls (fresh?) = %v, want [false true]: one fresh retry", got)
		}
		conn, err := pgx.Connect(t.Context(), conninfo(d, u.Name)+" sslmode=disable")
		var pgErr *pgconn.PgError
		if err == nil {
			conn.Close(t.Context())
		}
		if !errors.As(err, &pgErr) || pgErr.Code != "28P01" || !strings.Contains(pgErr.Hint, "vault read db/test") {
			t.Errorf("pgx with a wrong password from the login = %v (%#v)", err, pgErr)
		}
		noSecrets(t, append(secrets, "stale", "still-wrong"), append(errorTexts(d.Errors()), out)...)
	})

	t.Run("fresh password works", func(t *testing.T) {
		u := s.User("scram-sha-256")
		pw := &wiretest.Passwords{Kept: "rotated-away", Fresh: u.Password}
		d := wiretest.StartDoor(t, "tcp", postgres.Open, dial, pw.Login(u.Name, passwordCommand))
		if out, err := psqlCmd(t, conninfo(d, u.Name), "SELECT current_user"); err != nil || out != u.Name {
			t.Errorf("psql after a rotated password: %v\n%s", err, out)
		}
		if got := pw.Calls(); !slices.Equal(got, []bool{false, true}) {
			t.Errorf("Password calls (fresh?) = %v, want [false true]", got)
		}
	})

	t.Run("password command fails", func(t *testing.T) {
		u := s.User("password")
		pw := &wiretest.Passwords{Err: errors.New(`password-command vault read db/test: exit status 2: Error: permission denied`)}
		d := wiretest.StartDoor(t, "tcp", postgres.Open, dial, pw.Login(u.Name, passwordCommand))
		out, err := psqlCmd(t, conninfo(d, u.Name), "SELECT 1")
		if err == nil || !strings.Contains(out, "FATAL:  rhizome could not get the password to log \"rz_password\" in: password-command vault read db/test: exit status 2: Error: permission denied") {
			t.Errorf("psql when the password command fails: %v\n%s", err, out)
		}
		conn, err := pgx.Connect(t.Context(), conninfo(d, u.Name)+" sslmode=disable")
		var pgErr *pgconn.PgError
		if err == nil {
			conn.Close(t.Context())
		}
		if !errors.As(err, &pgErr) || !strings.Contains(pgErr.Message, "permission denied") {
			t.Errorf("pgx when the password command fails = %v", err)
		}
	})

	t.Run("cancel request", func(t *testing.T) {
		u := s.User("scram-sha-256")
		pw := &wiretest.Passwords{Kept: u.Password}
		d := wiretest.StartDoor(t, "tcp", postgres.Open, dial, pw.Login(u.Name, passwordCommand))
		conn, err := pgconn.Connect(t.Context(), conninfo(d, u.Name))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(t.Context())
		go func() {
			time.Sleep(300 * time.Millisecond)
			_ = conn.CancelRequest(t.Context()) // to the door's address, as pgx sends it
		}()
		_, err = conn.Exec(t.Context(), "SELECT pg_sleep(20)").ReadAll()
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "57014" {
			t.Errorf("a query cancelled through the door = %v, want SQLSTATE 57014", err)
		}
	})

	t.Run("protocol 3.5 is negotiated", func(t *testing.T) {
		u := s.User("md5")
		pw := &wiretest.Passwords{Kept: u.Password}
		d := wiretest.StartDoor(t, "tcp", postgres.Open, dial, pw.Login(u.Name, passwordCommand))
		c := dialClient(t, d.Addr())
		_, _ = c.Write(startupPacket(3<<16|5, "user", u.Name, "database", "postgres", "_pq_.rhizome_test", "1"))
		var types []byte
		for {
			typ, body := readMsg(t, c)
			types = append(types, typ)
			if typ == 'R' && binary.BigEndian.Uint32(body) != 0 || typ == 'E' {
				t.Fatalf("got %q %q", typ, body)
			}
			if typ == 'Z' {
				break
			}
		}
		_, _ = c.Write([]byte{'X', 0, 0, 0, 4})
		if !strings.HasPrefix(string(types), "vR") {
			t.Errorf("messages = %q, want NegotiateProtocolVersion, AuthenticationOk, …", types)
		}
	})

	t.Run("protocol 2 passes through", func(t *testing.T) {
		pw := &wiretest.Passwords{Kept: "x"}
		d := wiretest.StartDoor(t, "tcp", postgres.Open, dial, pw.Login("", passwordCommand))
		c := dialClient(t, d.Addr())
		_, _ = c.Write(startupPacket(2<<16, "user", "rz_md5", "database", "postgres"))
		all, _ := io.ReadAll(c)
		if !strings.Contains(string(all), "unsupported frontend protocol 2.0") || len(pw.Calls()) != 0 {
			t.Errorf("a protocol 2.0 startup through the door got %q, Password calls %v", all, pw.Calls())
		}
	})

	for _, u := range s.Users {
		t.Run("check/"+u.Method, func(t *testing.T) {
			before := len(s.Log(t))
			c := dialClient(t, s.Addr)
			got, err := postgres.CheckLogin(c, wire.Login{User: u.Name, Password: (&wiretest.Passwords{Kept: u.Password}).Get})
			if err != nil || !strings.HasPrefix(got, "PostgreSQL 15") || !strings.HasSuffix(got, "logged in as "+u.Name) {
				t.Errorf("CheckLogin(%s) = %q, %v", u.Name, got, err)
			}
			c.Close()
			logged := waitLog(t, s, before, "disconnection:")
			for _, bad := range []string{"FATAL", "could not receive data", "unexpected EOF", "ERROR"} {
				if strings.Contains(logged, bad) {
					t.Errorf("after CheckLogin(%s) the server logged %q:\n%s", u.Name, bad, logged)
				}
			}
			c = dialClient(t, s.Addr)
			_, err = postgres.CheckLogin(c, wire.Login{User: u.Name, Password: (&wiretest.Passwords{Kept: "nope"}).Get})
			if err == nil || !strings.Contains(err.Error(), "28P01") {
				t.Errorf("CheckLogin(%s, a wrong password) = %v, want the server's 28P01", u.Name, err)
			}
		})
	}
}

// waitLog returns what the server logged since byte before once it holds want (or after a
// few seconds).
func waitLog(t *testing.T, s *dbtest.PostgresServer, before int, want string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		logged := s.Log(t)[before:]
		if strings.Contains(logged, want) || time.Now().After(deadline) {
			return logged
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func dialClient(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	return c
}

// startupPacket is a startup of protocol version with params, laid out by hand.
func startupPacket(version uint32, params ...string) []byte {
	body := binary.BigEndian.AppendUint32(nil, version)
	for _, p := range params {
		body = append(append(body, p...), 0)
	}
	body = append(body, 0)
	return append(binary.BigEndian.AppendUint32(nil, uint32(4+len(body))), body...)
}

// readMsg reads one typed message.
func readMsg(t *testing.T, r io.Reader) (byte, []byte) {
	t.Helper()
	var h [5]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, binary.BigEndian.Uint32(h[1:])-4)
	if _, err := io.ReadFull(r, body); err != nil {
		t.Fatal(err)
	}
	return h[0], body
}
