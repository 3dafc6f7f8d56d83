package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// user is a person's private corner of the machine for one test: short XDG dirs (socket paths
// must stay under 104 bytes), a home, the built rhizome first on PATH, and whatever agent the
// test starts there stopped at cleanup.
type user struct {
	t    *testing.T
	dir  string // short root of everything below
	home string
	run  string // XDG_RUNTIME_DIR
	env  []string
}

// newUser makes a user whose config defines eu-prod (alias eu) with ledger (alias lg) beside
// the built-in na-prod/bookkeeper.
func newUser(t *testing.T) *user {
	t.Helper()
	dir, err := os.MkdirTemp("", "rz")
	if err != nil {
		t.Fatal(err)
	}
	u := &user{t: t, dir: dir, home: filepath.Join(dir, "home"), run: filepath.Join(dir, "run")}
	for _, d := range []string{u.home, u.run, filepath.Join(dir, "config", "rhizome")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	const config = `environment eu-prod
    alias eu
    context gke_x
    namespace ns
    deployment dep
    database ledger
        alias lg
        instance proj:europe-west1:ledger
`
	if err := os.WriteFile(filepath.Join(dir, "config", "rhizome", "config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	u.env = []string{
		"PATH=" + binDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + u.home,
		"XDG_RUNTIME_DIR=" + u.run,
		"XDG_STATE_HOME=" + filepath.Join(dir, "state"),
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"XDG_DATA_HOME=" + filepath.Join(dir, "data"),
		"LANG=C.UTF-8",
		"SHELL=/bin/sh",
	}
	t.Cleanup(func() {
		cmd := exec.Command(filepath.Join(binDir, "rhizome"), "agent", "-k", "-a", u.socket())
		cmd.Env = u.env
		_ = cmd.Run()
		os.RemoveAll(dir)
	})
	return u
}

// socket is the user's default agent socket.
func (u *user) socket() string { return filepath.Join(u.run, "rhizome", "agent.sock") }

// setenv sets a variable for everything the test runs from now on.
func (u *user) setenv(name, value string) {
	u.env = append(u.env, name+"="+value)
}

// command prepares a program to run as the user, in the user's home.
func (u *user) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env, cmd.Dir = u.env, u.home
	return cmd
}

// rhizome runs the built rhizome as the user and returns its stdout; it fails the test when
// rhizome fails.
func (u *user) rhizome(args ...string) string {
	u.t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := u.command(filepath.Join(binDir, "rhizome"), args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		u.t.Fatalf("rhizome %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// agentInfo is what `rhizome version --json` says of the running agent.
type agentInfo struct {
	PID    int    `json:"pid"`
	Socket string `json:"socket"`
}

// agent asks `rhizome version --json` which agent answers, if any.
func (u *user) agent() (agentInfo, bool) {
	u.t.Helper()
	var v struct {
		Agent *agentInfo `json:"agent"`
	}
	if err := json.Unmarshal([]byte(u.rhizome("version", "--json")), &v); err != nil {
		u.t.Fatal(err)
	}
	if v.Agent == nil {
		return agentInfo{}, false
	}
	return *v.Agent, true
}

// startSleeper starts a sleeper that lives well beyond the test (an agent starts on demand)
// and returns its pid.
func (u *user) startSleeper() int {
	u.t.Helper()
	cmd := u.command(filepath.Join(binDir, "rhizome"), "sleeper")
	cmd.Env = append(cmd.Env[:len(cmd.Env):len(cmd.Env)], "SLEEP_OVERRIDE=600")
	out, err := cmd.Output()
	if err != nil {
		u.t.Fatalf("rhizome sleeper: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		u.t.Fatalf("rhizome sleeper printed %q, want a pid", out)
	}
	return pid
}

// requireProgram fails the test when a program the test drives is not installed.
func requireProgram(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: scripts/deps installs it (scripts/test runs it)", name)
	}
	return path
}
