package door

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/env"
)

// TestSocketCloseLeavesASocketItDidNotBind: another agent (or anyone with the right) replaced a
// forward's socket file while the forward ran; the forward's end removes its own file only, so
// the other agent's socket still answers.
func TestSocketCloseLeavesASocketItDidNotBind(t *testing.T) {
	dir := filepath.Join(shortDir(t), "a.sock.forwards")
	for _, eng := range []string{env.MySQL, env.Postgres} {
		l, path, err := listenUnix(dir, lookupEngine(t, eng), "na-prod/x", "key", 45434)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		other, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		l.Close()
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Errorf("%s: after the forward closed, the other socket at %s = %v; want it still there", eng, path, err)
			continue
		}
		c.Close()
	}
}

// TestSocketNamesOfDifferentForwardsNeverCollide: a PostgreSQL forward named X.sock wants the
// directory X.sock, where MySQL forward X's socket is: it gets a path of its own, and X's
// socket stays and answers. The other way round, too; and a leftover directory with more
// than sockets in it is not removed.
func TestSocketNamesOfDifferentForwardsNeverCollide(t *testing.T) {
	dir := filepath.Join(shortDir(t), "a.sock.forwards")
	mysql, pg := lookupEngine(t, env.MySQL), lookupEngine(t, env.Postgres)
	serveOne := func(l net.Listener) {
		go func() {
			if c, err := l.Accept(); err == nil {
				c.Write([]byte("x"))
				c.Close()
			}
		}()
	}
	answers := func(path string) error {
		c, err := net.Dial("unix", path)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err = c.Read(make([]byte, 1))
		return err
	}

	lm, mpath, err := listenUnix(dir, mysql, "X", "mysql-key", 3306)
	if err != nil {
		t.Fatal(err)
	}
	defer lm.Close()
	lp, ppath, err := listenUnix(dir, pg, "X.sock", "pg-key", 5433)
	if err != nil {
		t.Fatalf("postgres X.sock beside mysql X: %v", err)
	}
	defer lp.Close()
	if ppath == mpath || filepath.Dir(ppath) == mpath {
		t.Errorf("postgres X.sock's socket %s collides with mysql X's %s", ppath, mpath)
	}
	serveOne(lm)
	if err := answers(mpath); err != nil {
		t.Errorf("mysql X's socket after postgres X.sock started: %v", err)
	}
	serveOne(lp)
	if err := answers(ppath); err != nil {
		t.Errorf("postgres X.sock's socket: %v", err)
	}

	// PostgreSQL first this time: Y.sock's directory is there when MySQL's Y comes.
	lp2, ppath2, err := listenUnix(dir, pg, "Y.sock", "pg-key2", 5433)
	if err != nil {
		t.Fatal(err)
	}
	defer lp2.Close()
	lm2, mpath2, err := listenUnix(dir, mysql, "Y", "mysql-key2", 3306)
	if err != nil {
		t.Fatalf("mysql Y beside postgres Y.sock: %v", err)
	}
	defer lm2.Close()
	if filepath.Dir(ppath2) == mpath2 {
		t.Errorf("mysql Y's socket %s is postgres Y.sock's directory", mpath2)
	}
	serveOne(lp2)
	if err := answers(ppath2); err != nil {
		t.Errorf("postgres Y.sock's socket after mysql Y started: %v", err)
	}

	// A leftover directory holding a file that is not a socket is not ours to take over.
	keep := filepath.Join(dir, "Z", "notes")
	if err := os.MkdirAll(filepath.Dir(keep), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keep, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	l3, _, err := listenUnix(dir, pg, "Z", "pg-key3", 5433)
	if err != nil {
		t.Fatal(err)
	}
	l3.Close()
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("%s after a forward named Z came and went: %v", keep, err)
	}
}

// TestPostgresSocketAnswersAsPort5432: psql -h DIR without -p looks for .s.PGSQL.5432; the
// forward's directory answers there too, whatever the local port, with the real psql.
func TestPostgresSocketAnswersAsPort5432(t *testing.T) {
	back := listen(t, func(c net.Conn) {
		// An ErrorResponse to whatever psql sends first: enough for psql to print it.
		msg := "SFATAL\x00C28000\x00Mreached the test's back end\x00\x00"
		b := append([]byte{'E', 0, 0, 0, 0}, msg...)
		n := len(b) - 1
		b[1], b[2], b[3], b[4] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
		buf := make([]byte, 1024)
		_, _ = c.Read(buf)
		_, _ = c.Write(b)
	})
	d, _ := testDoorOf(t, 10*time.Second, env.Postgres)
	d.Up(tcpBackend(back))
	if d.Port() == 5432 {
		t.Fatal("the test door is on 5432: pick another port")
	}
	host := lookupEngine(t, env.Postgres).SocketHost(d.UnixPath())
	c, err := net.Dial("unix", filepath.Join(host, ".s.PGSQL.5432"))
	if err != nil {
		t.Fatalf("dial .s.PGSQL.5432 in %s (port %d): %v", host, d.Port(), err)
	}
	c.Close()
	out, _ := exec.Command("psql", "-X", "-w", "-h", host, "-c", "SELECT 1").CombinedOutput()
	if want := "reached the test's back end"; !strings.Contains(string(out), want) {
		t.Errorf("psql -h %s (no -p) said %q, want %q", host, out, want)
	}
	d.Close("test over")
	if _, err := os.Stat(host); !os.IsNotExist(err) {
		t.Errorf("the socket's directory %s is still there after close: %v", host, err)
	}
}
