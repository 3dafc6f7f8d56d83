package e2e_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/forward/engine"
	"github.com/rhizome-dev/rhizome/rpc"
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

// psql runs SELECT 1 with the real psql, reaching the server at host (127.0.0.1, or a socket's
// directory) and port, optionally as another user (a command prefix such as setpriv).
func psql(connectTimeout time.Duration, host, port string, prefix ...string) error {
	args := append(prefix, "psql", "-X", "-w", "-At", "-h", host, "-p", port,
		"-U", cluster.Postgres.User, "-d", cluster.Postgres.Database, "-c", "SELECT 1")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(cmd.Environ(), fmt.Sprintf("PGCONNECT_TIMEOUT=%d", int(connectTimeout.Seconds())))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("psql -h %s -p %s: %v: %s", host, port, err, strings.TrimSpace(string(out)))
	}
	if strings.TrimSpace(string(out)) != "1" {
		return fmt.Errorf("SELECT 1 returned %q", out)
	}
	return nil
}

// psqlSelectOne runs SELECT 1 with psql through 127.0.0.1:port.
func psqlSelectOne(port string) error { return psql(5*time.Second, "127.0.0.1", port) }

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
	if logs, _, _ := u.rhizome("logs", "na-prod/ledger"); !strings.Contains(logs, "ready: "+cluster.PGInstance+" answers on 127.0.0.1:"+pgPort+" (server PostgreSQL, TLS not offered, pod ") {
		t.Errorf("logs of na-prod/ledger lack the PostgreSQL readiness line:\n%s", logs)
	}

	// The probe the health checks repeat leaves nothing in the server's log.
	logPath := filepath.Join(cluster.Dir, "postgres.log")
	before, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if got, err := engine.CheckPostgres(t.Context(), "127.0.0.1:"+pgPort); err != nil {
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

// TestPostgresSocketDirectory: the front door's socket of a PostgreSQL forward is
// .s.PGSQL.PORT in a private directory of its own, which --socket prints, so the real psql
// reaches the server with -h DIR -p PORT, and libpq's PGHOST does too; another uid cannot.
func TestPostgresSocketDirectory(t *testing.T) {
	u := newUser(t, 35436)
	u.addLedger(35462)
	out, stderr, err := u.rhizome("forward", "--json", "na-prod", "ledger")
	if err != nil {
		t.Fatalf("forward --json na-prod ledger = %q, %v: %s", out, err, stderr)
	}
	var h rpc.Handle
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(h.LocalPort) // 35462, unless another program held it
	dir := filepath.Dir(h.UnixSocket)
	if h.UnixSocketError != "" || filepath.Base(h.UnixSocket) != ".s.PGSQL."+port || filepath.Base(dir) != "na-prod-ledger" {
		t.Fatalf("handle = %+v, want the socket na-prod-ledger/.s.PGSQL.%s", h, port)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the socket's directory: %v, %v; want mode 0700", fi.Mode(), err)
	}
	if got, _, err := u.rhizome("forward", "--socket", "na-prod", "ledger"); err != nil || got != dir {
		t.Errorf("forward --socket = %q, %v; want the directory %s", got, err, dir)
	}
	if err := psql(5*time.Second, dir, port); err != nil {
		t.Errorf("SELECT 1 through the socket directory: %v", err)
	}
	// Any libpq client: PGHOST names the directory.
	cmd := exec.Command("psql", "-X", "-w", "-At", "-U", cluster.Postgres.User, "-d", cluster.Postgres.Database, "-c", "SELECT 1")
	cmd.Env = append(cmd.Environ(), "PGHOST="+dir, "PGPORT="+port, "PGCONNECT_TIMEOUT=5")
	if out, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "1" {
		t.Errorf("psql with PGHOST=%s = %q, %v; want 1", dir, out, err)
	}
	if err := psql(5*time.Second, dir, port, asNobody...); err == nil {
		t.Errorf("uid 65534 got SELECT 1 through the owner's socket directory")
	}
	if err := psql(5*time.Second, "127.0.0.1", port, asNobody...); err == nil {
		t.Errorf("uid 65534 got SELECT 1 through the owner's PostgreSQL port")
	}
	ps := u.ps()
	if ps.Count != 1 || ps.Running[0].Traffic == nil || ps.Running[0].Traffic.Accepted < 2 || ps.Running[0].Traffic.Refused < 1 {
		t.Errorf("ps = %+v, want 2 accepted (the owner's psql through the socket) and the other uid's refused over TCP", ps)
	}
	if _, stderr, err := u.rhizome("stop", "na-prod/ledger"); err != nil {
		t.Fatalf("stop: %v: %s", err, stderr)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the socket's directory %s outlived the forward: %v", dir, err)
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
	eventually(t, 60*time.Second, "ps showing the forward reconnecting", func() error {
		if ps := u.ps(); ps.Count != 1 || ps.Running[0].State != "reconnecting" {
			return fmt.Errorf("ps = %+v", ps)
		}
		return nil
	})
	// Started while the chain is down: the front door holds it until the chain is back.
	if err := psql(30*time.Second, "127.0.0.1", portOf(out)); err != nil {
		t.Errorf("a psql that connected while the forward reconnected: %v", err)
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
	dir, _, err := u.rhizome("forward", "--socket", "na-prod", "ledger")
	if err != nil {
		t.Fatal(err)
	}
	if err := psql(5*time.Second, dir, portOf(out)); err != nil {
		t.Errorf("SELECT 1 through the socket directory after the reconnect: %v", err)
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
	if err == nil || !strings.Contains(stderr, "failed: ") || !strings.Contains(stderr, "no PostgreSQL answer") || !strings.Contains(stderr, "check the database's engine") {
		t.Errorf("forward to a MySQL instance as postgres = %q, %v, stderr %q; want it failed, saying no PostgreSQL answered", out, err, stderr)
	}
}
