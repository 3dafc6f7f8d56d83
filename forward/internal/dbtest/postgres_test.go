package dbtest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPostgresUsers: each user logs in with its own password and method, and not without.
func TestPostgresUsers(t *testing.T) {
	s := Postgres(t)
	psql, err := PostgresTool("psql")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range s.Users {
		for _, pw := range []string{u.Password, "wrong"} {
			cmd := exec.Command(psql, "-X", "-w", "-At", "host=127.0.0.1 port="+s.Port()+" user="+u.Name+" dbname=postgres", "-c", "SELECT 1")
			cmd.Env = append(cmd.Environ(), "PGPASSWORD="+pw)
			out, err := cmd.CombinedOutput()
			ok := err == nil && strings.TrimSpace(string(out)) == "1"
			if ok != (pw == u.Password) {
				t.Errorf("psql as %s (%s) with password %q: %v\n%s", u.Name, u.Method, pw, err, out)
			}
		}
	}
	if log := s.Log(t); !strings.Contains(log, `password authentication failed for user "rz_md5"`) {
		t.Errorf("the log has no failed login of rz_md5:\n%s", log)
	}
}
