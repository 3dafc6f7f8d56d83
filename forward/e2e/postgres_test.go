package e2e_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/env"
	"github.com/rhizome-dev/rhizome/forward"
)

// The same as the MySQL tests, for a PostgreSQL instance behind the same pod: the real psql,
// through the handle, over the real port-forward, to Debian's PostgreSQL.

// addLedger gives u's na-prod a PostgreSQL database, ledger, on port.
func (u *user) addLedger(port int) {
	u.addConfig(fmt.Sprintf(`environment na-prod
    database ledger
        engine postgres
        instance %s
        port %d
`, cluster.PGInstance, port))
}

// psqlSelectOne runs SELECT 1 with psql through 127.0.0.1:port.
func psqlSelectOne(port string) error {
	cmd := exec.Command("psql", "-X", "-w", "-At", "-h", "127.0.0.1", "-p", port,
		"-U", cluster.Postgres.User, "-d", cluster.Postgres.Database, "-c", "SELECT 1")
	cmd.Env = append(cmd.Environ(), "PGCONNECT_TIMEOUT=5")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("psql: %v: %s", err, out)
	}
	if strings.TrimSpace(string(out)) != "1" {
		return fmt.Errorf("SELECT 1 returned %q", out)
	}
	return nil
}

func TestPostgresForward(t *testing.T) {
	u := newUser(t, 35406)
	u.addLedger(35432)
	// The port asked for, or the next when another program on this machine holds it (the
	// forward says so on stderr).
	out, stderr, err := u.rhizome("forward", "na-prod", "ledger")
	if err != nil || !strings.HasPrefix(out, "postgres://127.0.0.1:") || (out != "postgres://127.0.0.1:35432" && !strings.Contains(stderr, "port 35432 was busy")) {
		t.Fatalf("forward na-prod ledger = %q, %v, stderr %q; want postgres://127.0.0.1:35432", out, err, stderr)
	}
	pgPort := portOf(out)
	if err := psqlSelectOne(pgPort); err != nil {
		t.Fatalf("SELECT 1 through the handle: %v", err)
	}

	// --exec: psql finds the server from PGHOST and PGPORT alone.
	out, stderr, err = u.rhizome("forward", "--exec", "na-prod", "ledger", "--",
		"psql", "-X", "-w", "-At", "-U", cluster.Postgres.User, "-d", cluster.Postgres.Database, "-c", "SELECT 1")
	if err != nil || out != "1" {
		t.Errorf("forward --exec psql = %q, %v, stderr %q; want 1", out, err, stderr)
	}
	out, _, err = u.rhizome("forward", "--json", "na-prod", "ledger")
	if err != nil || !strings.Contains(out, `"engine": "postgres"`) || !strings.Contains(out, `"sql_connection": "`+cluster.PGInstance+`"`) {
		t.Errorf("forward --json = %s, %v; want engine postgres and the instance", out, err)
	}
	// Beside it, the MySQL database of the same pod: two engines, two forwards, each ready.
	h := u.mustForward()
	if !strings.HasPrefix(h, "mysql://127.0.0.1:") {
		t.Errorf("forward na-prod bookkeeper = %q", h)
	}
	if err := selectOne(portOf(h)); err != nil {
		t.Errorf("SELECT 1 through the MySQL handle: %v", err)
	}
	if ps := u.ps(); ps.Count != 2 || ps.Running[0].State != "ready" || ps.Running[1].State != "ready" {
		t.Errorf("ps = %+v, want two ready forwards", ps)
	}
	if logs, _, _ := u.rhizome("logs", "na-prod/ledger"); !strings.Contains(logs, "ready: "+cluster.PGInstance+" answers on 127.0.0.1:"+pgPort+" (server PostgreSQL, TLS not offered, back end ") {
		t.Errorf("logs of na-prod/ledger lack the PostgreSQL readiness line:\n%s", logs)
	}

	// The probe the health checks repeat leaves nothing in the server's log.
	logPath := filepath.Join(cluster.Dir, "postgres.log")
	before, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if got, err := forward.CheckPostgres(t.Context(), "127.0.0.1:"+pgPort); err != nil {
			t.Fatalf("CheckPostgres through the handle = %q, %v", got, err)
		}
	}
	if err := psqlSelectOne(pgPort); err != nil { // after the probes, so their log lines are written
		t.Fatal(err)
	}
	after, err := os.ReadFile(logPath)
	if err != nil || len(after) < len(before) {
		t.Fatalf("reading the PostgreSQL server's log again: %v", err)
	}
	if added := string(after[len(before):]); added != "" {
		t.Errorf("probes added to the PostgreSQL server's log:\n%s", added)
	}
}

// TestPostgresSocketNaming: the name env gives a PostgreSQL forward's Unix socket is one psql
// finds from a directory and a port (psql -h DIR -p PORT), as PGHOST and PGPORT give them. A
// relay on that socket to the forward's TCP handle stands in for the front door.
func TestPostgresSocketNaming(t *testing.T) {
	u := newUser(t, 35436)
	u.addLedger(35462)
	out, stderr, err := u.rhizome("forward", "na-prod", "ledger")
	if err != nil {
		t.Fatalf("forward na-prod ledger = %q, %v: %s", out, err, stderr)
	}
	port := portOf(out) // 35462, unless another program held it
	engine, err := env.LookupEngine(env.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	base, err := os.MkdirTemp("", "rzs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	portNum, _ := strconv.Atoi(port)
	path := engine.SocketPath(base, "na-prod-ledger", portNum)
	if err := os.Mkdir(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				up, err := net.Dial("tcp", "127.0.0.1:"+port)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { io.Copy(up, c); up.(*net.TCPConn).CloseWrite() }()
				io.Copy(c, up)
			}()
		}
	}()
	cmd := exec.Command("psql", "-X", "-w", "-At", "-h", engine.SocketHost(path), "-p", port,
		"-U", cluster.Postgres.User, "-d", cluster.Postgres.Database, "-c", "SELECT 1")
	if out, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "1" {
		t.Errorf("psql -h %s -p %s = %q, %v; want 1", engine.SocketHost(path), port, out, err)
	}
}

func TestPostgresPodReplacedUnderLiveForward(t *testing.T) {
	u := newUser(t, 35416)
	u.addLedger(35442)
	out, stderr, err := u.rhizome("forward", "na-prod", "ledger")
	if err != nil {
		t.Fatalf("forward na-prod ledger = %v: %s", err, stderr)
	}
	if err := psqlSelectOne(portOf(out)); err != nil {
		t.Fatal(err)
	}
	if err := cluster.ReplacePod(t.Context()); err != nil {
		t.Fatal(err)
	}
	took := eventually(t, 60*time.Second, "SELECT 1 after the pod was replaced", func() error { return psqlSelectOne(portOf(out)) })
	t.Logf("the same handle worked again %v after the new pod was Running", took.Round(10*time.Millisecond))
	eventually(t, 30*time.Second, "ps showing the restart", func() error {
		ps := u.ps()
		if ps.Count != 1 || ps.Running[0].Restarts < 1 || ps.Running[0].State != "ready" {
			return fmt.Errorf("ps = %+v", ps)
		}
		return nil
	})
	if again, _, _ := u.rhizome("forward", "na-prod", "ledger"); again != out {
		t.Errorf("forward after recovery = %q, want the same %q", again, out)
	}
}

// TestWrongEngineFails: a MySQL instance configured as postgres is not ready — the MySQL
// server answers, but not to PostgreSQL's SSLRequest — and the forward fails saying so.
func TestWrongEngineFails(t *testing.T) {
	u := newUser(t, 35426)
	u.addConfig(fmt.Sprintf(`environment na-prod
    database mislabeled
        engine postgres
        instance %s
        port 35452
`, cluster.Instance))
	out, stderr, err := u.rhizome("forward", "na-prod", "mislabeled")
	if err == nil || !strings.Contains(stderr, "forward: failed") || !strings.Contains(stderr, "no PostgreSQL answer") || !strings.Contains(stderr, "check the database's engine") {
		t.Errorf("forward to a MySQL instance as postgres = %q, %v, stderr %q; want it failed, saying no PostgreSQL answered", out, err, stderr)
	}
}
