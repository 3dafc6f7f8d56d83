package e2e_test

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// TestConnect runs `rhizome connect` as a user would, against the real MariaDB and PostgreSQL
// behind the pod: it starts the forward, runs the real client on its Unix socket as the
// config's user, passes the words after -- to it, and exits with the client's status. The
// front door does not log in here (no password-command), so the MariaDB client brings its own
// password (MYSQL_PWD), and PostgreSQL trusts loopback.
func TestConnect(t *testing.T) {
	u := newUser(t, 35506, "MYSQL_PWD="+cluster.MySQL.Password)
	u.addConfig(fmt.Sprintf(`environment na-prod
    user %s
    database ledger
        engine postgres
        instance %s
        port %d
`, cluster.MySQL.User, cluster.PGInstance, 35532))
	if cluster.Postgres.User != cluster.MySQL.User {
		t.Fatalf("the test's config names one user for both databases; the cluster has %s and %s", cluster.MySQL.User, cluster.Postgres.User)
	}
	status := func(err error) int {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		if err != nil {
			t.Fatalf("running rhizome: %v", err)
		}
		return 0
	}

	out, stderr, err := u.rhizome("connect", "na-prod", "bookkeeper", "--", "--skip-ssl", "-N", "-e", "SELECT 1", cluster.MySQL.Database)
	if out != "1" || status(err) != 0 {
		t.Errorf("connect na-prod bookkeeper -- -e 'SELECT 1' = %q, %v; want 1 and status 0\nstderr: %s", out, err, stderr)
	}
	out, stderr, err = u.rhizome("connect", "na-prod", "ledger", "--", "-X", "-w", "-At", "-d", cluster.Postgres.Database, "-c", "SELECT 1")
	if out != "1" || status(err) != 0 {
		t.Errorf("connect na-prod ledger -- -c 'SELECT 1' = %q, %v; want 1 and status 0\nstderr: %s", out, err, stderr)
	}
	// Both went through the front door's private sockets, the way the door can log them in.
	for _, p := range u.ps().Running {
		if p.State != "ready" || p.Traffic == nil || p.Traffic.Accepted < 1 {
			t.Errorf("ps row %+v: want a ready forward that accepted the client", p)
		}
	}

	// The client's failures are its own: its status and its words, no rhizome error.
	_, stderr, err = u.rhizome("connect", "na-prod", "bookkeeper", "--", "--skip-ssl", "-e", "SELECT * FROM no_such_table", cluster.MySQL.Database)
	if got := status(err); got != 1 || !strings.Contains(stderr, "ERROR 1146") || saysMoreThanPort(stderr) {
		t.Errorf("connect with a bad statement: status %d, stderr %q; want mariadb's 1 and its ERROR 1146 alone", got, stderr)
	}
	_, stderr, err = u.rhizome("connect", "na-prod", "ledger", "--", "-X", "-w", "-d", cluster.Postgres.Database, "-v", "ON_ERROR_STOP=1", "-c", "SELECT nope")
	if got := status(err); got != 1 || !strings.Contains(stderr, `column "nope" does not exist`) || saysMoreThanPort(stderr) {
		t.Errorf("connect with a bad statement: status %d, stderr %q; want psql's 1 and its error alone", got, stderr)
	}
	_, stderr, err = u.rhizome("connect", "na-prod", "ledger", "--", "-X", "-w", "-U", "no_such_role", "-d", cluster.Postgres.Database, "-c", "SELECT 1")
	if got := status(err); got != 2 || !strings.Contains(stderr, "no_such_role") {
		t.Errorf("connect as a role that does not exist: status %d, stderr %q; want psql's 2", got, stderr)
	}
}

// saysMoreThanPort reports whether rhizome wrote to stderr anything but the note that the
// forward's port was busy (another program on this machine may hold it).
func saysMoreThanPort(stderr string) bool {
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, "rhizome: ") && !strings.Contains(line, " was busy; ") {
			return true
		}
	}
	return false
}
