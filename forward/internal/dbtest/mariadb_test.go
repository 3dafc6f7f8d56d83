package dbtest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestMariaDB starts a server and logs in as its user over TCP with the real client.
func TestMariaDB(t *testing.T) {
	s := MariaDB(t)
	if !strings.Contains(s.Version, "MariaDB") {
		t.Errorf("MariaDB(t).Version = %q, want a MariaDB version", s.Version)
	}
	// The readiness probe read greetings and hung up, which counts: measure from here.
	aborted := s.Status(t, "Aborted_connects")
	host, port, _ := strings.Cut(s.Addr, ":")
	out, err := exec.Command(lookClient(t), "--no-defaults", "-h", host, "-P", port, "-u", s.User,
		"-p"+s.Password, s.Database, "--batch", "--skip-column-names", "-e", "SELECT CURRENT_USER(), DATABASE()").CombinedOutput()
	if got := strings.TrimSpace(string(out)); err != nil || got != "alice@%\tapp" {
		t.Errorf("mariadb as %s = %q, %v; want alice@%%\tapp", s.User, got, err)
	}
	if n := s.Status(t, "Aborted_connects"); n != aborted {
		t.Errorf("Aborted_connects = %d after a clean login, want %d as before", n, aborted)
	}
}
