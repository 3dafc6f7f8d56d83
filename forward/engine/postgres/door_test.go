package postgres_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// passwordCommand is the made-up password command of the door's logins, as its hints name it.
const passwordCommand = "password-command vault read db/test"

// psqlCmd runs the real psql with conninfo and SQL, with no password from anywhere but the
// conninfo: no PGPASSWORD, no password file.
func psqlCmd(t *testing.T, conninfo, sql string) (string, error) {
	t.Helper()
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skipf("no psql: %v", err)
	}
	cmd := exec.CommandContext(t.Context(), psql, "-X", "-w", "-At", conninfo+" connect_timeout=10", "-c", sql)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "PG") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Env = append(cmd.Env, "PGPASSFILE="+filepath.Join(t.TempDir(), "no-pgpass"))
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// noSecrets fails the test if any of secrets shows in texts.
func noSecrets(t *testing.T, secrets []string, texts ...string) {
	t.Helper()
	for _, s := range secrets {
		for _, text := range texts {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("a password shows in %q", text)
			}
		}
	}
}

func errorTexts(errs []error) []string {
	var out []string
	for _, err := range errs {
		out = append(out, err.Error())
	}
	return out
}
