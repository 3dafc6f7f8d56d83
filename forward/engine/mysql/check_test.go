package mysql

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/forward/engine/wire/wiretest"
	"github.com/rhizome-dev/rhizome/forward/internal/dbtest"
)

// TestCheckLoginMariaDB logs in to a real MariaDB and says goodbye: the server counts no
// aborted connect and no aborted client, and a wrong password is an error naming the server's
// words and no password.
func TestCheckLoginMariaDB(t *testing.T) {
	db := dbtest.MariaDB(t)
	check := func(p *wiretest.Passwords) (string, error) {
		conn, err := net.Dial("tcp", db.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		return CheckLogin(conn, p.Login(db.User, passwordCommand))
	}
	connects, clients := db.Status(t, "Aborted_connects"), db.Status(t, "Aborted_clients")
	for range 3 {
		if version, err := check(&wiretest.Passwords{Kept: db.Password}); err != nil || version != db.Version {
			t.Errorf("CheckLogin = %q, %v; want %q", version, err, db.Version)
		}
	}
	if n, m := db.Status(t, "Aborted_connects"), db.Status(t, "Aborted_clients"); n != connects || m != clients {
		t.Errorf("after 3 checks Aborted_connects = %d, Aborted_clients = %d; want %d, %d as before", n, m, connects, clients)
	}

	p := &wiretest.Passwords{Kept: "wrong-password", Fresh: db.Password}
	_, err := check(p)
	var se *serverError
	if !errors.As(err, &se) || se.Code != errAccessDenied || strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("CheckLogin with a wrong password = %v; want access denied, without the password", err)
	}
	if all, fresh := p.Count(); all != 1 || fresh != 0 {
		t.Errorf("CheckLogin called the password command %d times (%d fresh), want once, not fresh", all, fresh)
	}
	if _, err := check(&wiretest.Passwords{Err: errors.New("password-command exited 1")}); err == nil || !strings.Contains(err.Error(), "password-command exited 1") {
		t.Errorf("CheckLogin when the password command fails = %v; want its words", err)
	}
}
