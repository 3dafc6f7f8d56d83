package forward

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// countingCommand is a password command that prints password and appends a line to a file
// for each run, so a test can count the runs.
func countingCommand(t *testing.T, script string) ([]string, func() int) {
	t.Helper()
	runs := filepath.Join(t.TempDir(), "runs")
	argv := []string{"/bin/sh", "-c", "echo run >> " + runs + "; " + script}
	return argv, func() int {
		b, _ := os.ReadFile(runs)
		return strings.Count(string(b), "run\n")
	}
}

func TestPasswordCommandKeepsItsAnswerForTheTTL(t *testing.T) {
	argv, runs := countingCommand(t, "printf 's3cret\\nsecond line\\n'")
	l := loginOf(Request{User: "alice", PasswordCommand: argv, PasswordTTL: time.Hour})
	for range 3 {
		if pw, err := l.Password(t.Context(), false); err != nil || pw != "s3cret" {
			t.Fatalf("Password() = %q, %v; want the first line, s3cret", pw, err)
		}
	}
	if n := runs(); n != 1 {
		t.Errorf("the command ran %d times for three logins within its ttl, want once", n)
	}
	if _, err := l.Password(t.Context(), true); err != nil || runs() != 2 {
		t.Errorf("a fresh password: %v after %d runs, want a second run", err, runs())
	}
	every := loginOf(Request{PasswordCommand: argv}) // password-ttl 0: every connection
	for range 2 {
		if _, err := every.Password(t.Context(), false); err != nil {
			t.Fatal(err)
		}
	}
	if n := runs(); n != 4 {
		t.Errorf("with password-ttl 0 the command ran %d times in all, want 4", n)
	}
	if l.User != "alice" || !strings.Contains(l.Source, "password-command /bin/sh") {
		t.Errorf("login = %+v, want user alice and the command as its source", l)
	}
}

func TestPasswordCommandFailuresSayWhy(t *testing.T) {
	tests := []struct {
		name, script, want string
		notWant            string
	}{
		{"fails", "echo $((6*7))secret ; echo 'first' >&2; echo 'ERROR: (gcloud) You do not currently have an active account' >&2; exit 1",
			"failed (exit status 1): ERROR: (gcloud) You do not currently have an active account", "42secret"},
		{"prints nothing", "true", "printed no password", ""},
		{"hangs", "sleep 30", "printed no password within 300ms", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			argv, _ := countingCommand(t, tt.script)
			p := &passwords{argv: argv, timeout: 300 * time.Millisecond}
			start := time.Now()
			pw, err := p.password(context.Background(), false)
			if err == nil || !strings.Contains(err.Error(), tt.want) || (tt.notWant != "" && strings.Contains(err.Error(), tt.notWant)) {
				t.Errorf("password() = %q, %v; want an error with %q and without the command's stdout", pw, err, tt.want)
			}
			if time.Since(start) > 10*time.Second {
				t.Errorf("a hanging command held the login for %v", time.Since(start))
			}
		})
	}
}

func TestPasswordCommandRunsOnceForClientsArrivingTogether(t *testing.T) {
	argv, runs := countingCommand(t, "sleep 0.3; echo pw")
	l := loginOf(Request{PasswordCommand: argv, PasswordTTL: time.Minute})
	errs := make(chan error, 5)
	for range 5 {
		go func() {
			_, err := l.Password(t.Context(), false)
			errs <- err
		}()
	}
	for range 5 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := runs(); n != 1 {
		t.Errorf("five clients at once ran the command %d times, want once", n)
	}
}
