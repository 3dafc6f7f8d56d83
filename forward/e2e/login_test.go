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

	"github.com/rhizome-dev/rhizome/rpc"
)

// The door's logins: databases with a password-command, reached by the real clients with no
// password of their own.

// passwordScript writes an executable that prints password as gcloud sql
// generate-login-token prints a token, and counts its runs; it returns the script and a
// function that reads the count.
func passwordScript(t testing.TB, body string) (string, func() int) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil { // the agent runs it as the same user; keep it simple to read
		t.Fatal(err)
	}
	runs := filepath.Join(dir, "runs")
	script := filepath.Join(dir, "password")
	text := fmt.Sprintf("#!/bin/sh\necho run >> %s\n%s\n", runs, body)
	if err := os.WriteFile(script, []byte(text), 0o700); err != nil {
		t.Fatal(err)
	}
	return script, func() int {
		b, _ := os.ReadFile(runs)
		return strings.Count(string(b), "run\n")
	}
}

// addLogins gives u's na-prod the database books (the cluster's MariaDB, as its user) and
// ledger-app (the cluster's PostgreSQL, as the role that must give its password), each with
// command as its password-command.
func (u *user) addLogins(mysqlPort, pgPort int, mysqlCommand, pgCommand string) {
	u.addConfig(fmt.Sprintf(`environment na-prod
    database books
        instance %s
        port %d
        user %s
        password-command %s
    database ledger-app
        engine postgres
        instance %s
        port %d
        user %s
        password-command %s
`, cluster.Instance, mysqlPort, cluster.MySQL.User, mysqlCommand, cluster.PGInstance, pgPort, cluster.Postgres.App, pgCommand))
}

// mariadbAs runs the real mariadb client with args (where to connect, who, what to run) and
// no password unless args give one, and returns its output.
func mariadbAs(prefix []string, args ...string) (string, error) {
	all := append(append(prefix, "mariadb", "--no-defaults", "--skip-ssl", "--connect-timeout=10", "-N"), args...)
	cmd := exec.Command(all[0], all[1:]...)
	cmd.Env = append(os.Environ(), "MYSQL_PWD=") // no password from the environment either
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// psqlAs runs the real psql with no password (-w: never ask) at host and port as role.
func psqlAs(prefix []string, host, port, role, sql string) (string, error) {
	all := append(prefix, "psql", "-X", "-w", "-At", "-h", host, "-p", port, "-U", role, "-d", cluster.Postgres.Database, "-c", sql)
	cmd := exec.Command(all[0], all[1:]...)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10", "PGPASSWORD=", "PGPASSFILE=/nonexistent/pgpass")
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// TestDoorLogsTheOwnerIn: with a password-command, the owner's mariadb and psql log in with no
// password, through the port and through the socket; a client that brings its own password
// is passed through as it is; another uid is refused before any of it; the command runs once
// for many connections within its password-ttl; and the checks that log in leave MariaDB no
// aborted connection.
func TestDoorLogsTheOwnerIn(t *testing.T) {
	mysqlPw, mysqlRuns := passwordScript(t, "echo "+cluster.MySQL.Password)
	pgPw, _ := passwordScript(t, "echo "+cluster.Postgres.AppPassword)
	u := newUser(t, 33706)
	u.addLogins(33716, 33726, mysqlPw, pgPw)
	time.Sleep(2 * time.Second) // let MariaDB count what earlier tests left
	aborted := abortedConnects(t)

	h := u.handleOf("na-prod", "books")
	port := strconv.Itoa(h.LocalPort)
	for _, where := range [][]string{tcp(port), socketAt(h.UnixSocket)} {
		// Any user name, no password: logged in as the configured user.
		if out, err := mariadbAs(nil, append(where, "-u", "whoever", "-e", "SELECT CURRENT_USER()")...); err != nil || out != cluster.MySQL.User+"@%" {
			t.Errorf("mariadb %v with no password = %q, %v; want logged in as %s@%%", where, out, err, cluster.MySQL.User)
		}
	}
	// A password of its own: passed through untouched, right or wrong.
	if out, err := mariadbAs(nil, append(tcp(port), "-u", cluster.MySQL.User, "-p"+cluster.MySQL.Password, "-e", "SELECT 1")...); err != nil || out != "1" {
		t.Errorf("mariadb with its own password = %q, %v; want 1", out, err)
	}
	time.Sleep(2 * time.Second)
	if after := abortedConnects(t); after != aborted {
		t.Errorf("Aborted_connects went from %d to %d over a forward whose check logs in and clients it logged in; MariaDB's log says:\n%s", aborted, after, mariadbWarnings())
	}
	if out, err := mariadbAs(nil, append(tcp(port), "-u", cluster.MySQL.User, "-pwrong", "-e", "SELECT 1")...); err == nil || !strings.Contains(out, "Access denied") {
		t.Errorf("mariadb with a wrong password of its own = %q, %v; want the server's Access denied", out, err)
	}
	if out, err := mariadbAs(asNobody, append(tcp(port), "-e", "SELECT 1")...); err == nil {
		t.Errorf("uid 65534 got through the owner's port: %q", out)
	}
	if n := mysqlRuns(); n != 1 {
		t.Errorf("the password command ran %d times for the check and three logins within its ttl, want once", n)
	}

	pg := u.handleOf("na-prod", "ledger-app")
	pgPort := strconv.Itoa(pg.LocalPort)
	for _, host := range []string{"127.0.0.1", filepath.Dir(pg.UnixSocket)} {
		if out, err := psqlAs(nil, host, pgPort, cluster.Postgres.App, "SELECT current_user"); err != nil || out != cluster.Postgres.App {
			t.Errorf("psql -h %s as %s with no password = %q, %v; want logged in", host, cluster.Postgres.App, out, err)
		}
	}
	// Another role (the superuser, whom the server trusts): passed through.
	if out, err := psqlAs(nil, "127.0.0.1", pgPort, cluster.Postgres.User, "SELECT current_user"); err != nil || out != cluster.Postgres.User {
		t.Errorf("psql as %s = %q, %v; want passed through", cluster.Postgres.User, out, err)
	}
	if out, err := psqlAs(asNobody, "127.0.0.1", pgPort, cluster.Postgres.App, "SELECT 1"); err == nil {
		t.Errorf("uid 65534 got through the owner's PostgreSQL port: %q", out)
	}

	// rhizome connect runs the client as the configured user, logged in by the door.
	env := u.env
	u.env = append(u.env, "MYSQL_PWD=", "PGPASSWORD=", "PGPASSFILE=/nonexistent/pgpass")
	if out, stderr, err := u.rhizome("connect", "na-prod", "books", "--", "-N", "-e", "SELECT CURRENT_USER()"); err != nil || out != cluster.MySQL.User+"@%" {
		t.Errorf("rhizome connect na-prod books -- -e 'SELECT CURRENT_USER()' = %q, %v: %s", out, err, stderr)
	}
	if out, stderr, err := u.rhizome("connect", "na-prod", "ledger-app", "--", "-X", "-w", "-At", "-d", cluster.Postgres.Database, "-c", "SELECT current_user"); err != nil || out != cluster.Postgres.App {
		t.Errorf("rhizome connect na-prod ledger-app -- -c 'SELECT current_user' = %q, %v: %s", out, err, stderr)
	}
	u.env = env

	// The forward's checks log in and say goodbye: MariaDB counts no aborted connection, even
	// for a reconnect's check. No client connects meanwhile: one caught in the instant the
	// session dies may have a stream reach the server and drop before it logs in.
	time.Sleep(2 * time.Second)
	aborted = abortedConnects(t)
	restarts := u.row("na-prod/books").Restarts
	u.killProxy()
	eventually(t, 30*time.Second, "books ready again after its kubectl proxy died", func() error {
		if p := u.row("na-prod/books"); p.State != "ready" || p.Restarts == restarts {
			return fmt.Errorf("ps = %s after %d restarts", p.State, p.Restarts)
		}
		return nil
	})
	// A fresh session's first stream is sometimes dropped by the kubelet (KWOK) after the
	// server greeted it (the agent logs "no answer yet"); that one is aborted however the check
	// is made. A check that hangs up instead of logging in would count one on every check.
	time.Sleep(2 * time.Second)
	if after := abortedConnects(t); after > aborted+1 {
		t.Errorf("Aborted_connects went from %d to %d over a reconnect whose check logs in; MariaDB's log says:\n%s", aborted, after, mariadbWarnings())
	}
	if _, err := mariadbAs(nil, append(tcp(port), "-e", "SELECT 1")...); err != nil {
		t.Errorf("SELECT 1 after the reconnect: %v", err)
	}
}

// mariadbWarnings is the last lines of the cluster's MariaDB log that name aborted connections.
func mariadbWarnings() string {
	log, _ := os.ReadFile(filepath.Join(cluster.Dir, "mariadb.log"))
	var lines []string
	for _, line := range strings.Split(string(log), "\n") {
		if strings.Contains(line, "Aborted") {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines[max(0, len(lines)-5):], "\n")
}

// row is u's ps row of the forward named name.
func (u *user) row(name string) rpc.Process {
	u.t.Helper()
	for _, p := range u.ps().Running {
		if p.Name == name {
			return p
		}
	}
	u.t.Fatalf("no %s in ps: %+v", name, u.ps())
	return rpc.Process{}
}

// handleOf asks for the forward to database db of environment envName and returns its handle.
func (u *user) handleOf(envName, db string) rpc.Handle {
	u.t.Helper()
	out, stderr, err := u.rhizome("forward", "--json", envName, db)
	var h rpc.Handle
	if err == nil {
		err = json.Unmarshal([]byte(out), &h)
	}
	if err != nil {
		u.t.Fatalf("rhizome forward --json %s %s = %q, %v: %s", envName, db, out, err, stderr)
	}
	return h
}

// killProxy kills -9 u's kubectl proxy, as a crash would.
func (u *user) killProxy() {
	u.t.Helper()
	for _, p := range u.psAll().Running {
		if p.Kind == "kube-proxy" && p.PID > 0 {
			if err := exec.Command("kill", "-9", strconv.Itoa(p.PID)).Run(); err != nil {
				u.t.Fatal(err)
			}
			return
		}
	}
	u.t.Fatalf("no kubectl proxy in ps: %+v", u.psAll())
}

// TestDoorLoginFailuresSayWhy: a password-command that prints a wrong password gets the
// server's own words plus rhizome's hint; one that fails gets the last line of its stderr;
// each in the client's protocol.
func TestDoorLoginFailuresSayWhy(t *testing.T) {
	wrong, wrongRuns := passwordScript(t, "echo not-the-password")
	u := newUser(t, 33736)
	u.addLogins(33746, 33756, wrong, wrong)
	port := strconv.Itoa(u.handleOf("na-prod", "books").LocalPort)
	before := wrongRuns()
	out, err := mariadbAs(nil, append(tcp(port), "-e", "SELECT 1")...)
	if err == nil || !strings.Contains(out, "Access denied") || !strings.Contains(out, "password-command "+wrong) {
		t.Errorf("mariadb through a wrong password-command = %q, %v; want Access denied and the command named", out, err)
	}
	if n := wrongRuns() - before; n != 1 {
		t.Errorf("the password command ran %d times for one rejected login, want once more (a fresh password)", n)
	}
	pgPort := strconv.Itoa(u.handleOf("na-prod", "ledger-app").LocalPort)
	out, err = psqlAs(nil, "127.0.0.1", pgPort, cluster.Postgres.App, "SELECT 1")
	if err == nil || !strings.Contains(out, "password authentication failed") || !strings.Contains(out, "password-command "+wrong) {
		t.Errorf("psql through a wrong password-command = %q, %v; want the server's words and the command named", out, err)
	}

	failing, _ := passwordScript(t, "echo 'ERROR: (gcloud.sql.generate-login-token) You do not currently have an active account selected.' >&2; exit 1")
	v := newUser(t, 33766)
	v.addLogins(33776, 33786, failing, failing)
	port = strconv.Itoa(v.handleOf("na-prod", "books").LocalPort)
	out, err = mariadbAs(nil, append(tcp(port), "-e", "SELECT 1")...)
	if err == nil || !strings.Contains(out, "You do not currently have an active account selected") {
		t.Errorf("mariadb through a failing password-command = %q, %v; want its stderr's last line", out, err)
	}
	pgPort = strconv.Itoa(v.handleOf("na-prod", "ledger-app").LocalPort)
	out, err = psqlAs(nil, "127.0.0.1", pgPort, cluster.Postgres.App, "SELECT 1")
	if err == nil || !strings.Contains(out, "You do not currently have an active account selected") {
		t.Errorf("psql through a failing password-command = %q, %v; want its stderr's last line", out, err)
	}
}

// TestDoorLoginAfterTheProxyDiedWhileIdle: the in-pod proxy dies under idle forwards with a
// login (their health comes from the session, which still answers). The next client, with no
// password, meets the dead stream: the door takes the chain down, holds the client while it
// reconnects, and logs it in through the new chain in one try.
func TestDoorLoginAfterTheProxyDiedWhileIdle(t *testing.T) {
	mysqlPw, _ := passwordScript(t, "echo "+cluster.MySQL.Password)
	pgPw, _ := passwordScript(t, "echo "+cluster.Postgres.AppPassword)
	u := newUser(t, 33836, "RHIZOME_HEALTH_INTERVAL=10s")
	u.addLogins(33846, 33856, mysqlPw, pgPw)
	port := strconv.Itoa(u.handleOf("na-prod", "books").LocalPort)
	pgPort := strconv.Itoa(u.handleOf("na-prod", "ledger-app").LocalPort)
	if err := cluster.StopProxies(); err != nil {
		t.Fatal(err)
	}
	if out, err := mariadbAs(nil, append(tcp(port), "-e", "SELECT CURRENT_USER()")...); err != nil || out != cluster.MySQL.User+"@%" {
		t.Errorf("the first mariadb after the proxy died = %q, %v; want held, then logged in", out, err)
	}
	if out, err := psqlAs(nil, "127.0.0.1", pgPort, cluster.Postgres.App, "SELECT current_user"); err != nil || out != cluster.Postgres.App {
		t.Errorf("the first psql after the proxy died = %q, %v; want held, then logged in", out, err)
	}
}
