package cli_test

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// unitPath is the systemd user unit that runs the agent at login.
var unitPath = filepath.Join("..", "scripts", "rhizome-agent.service")

// TestSystemdUnitVerifies has systemd check the unit as a user manager would load it, with
// the binary where ExecStart expects it. Warnings (an unknown key, say) fail the test too.
func TestSystemdUnitVerifies(t *testing.T) {
	requireProgram(t, "systemd-analyze")
	u := newUser(t)
	installForUnit(t, u)
	unit := filepath.Join(u.dir, "rhizome-agent.service")
	writeFile(t, unit, readFile(t, ".", unitPath))
	cmd := exec.Command("systemd-analyze", "--user", "verify", unit)
	cmd.Env = []string{"HOME=" + u.home, "XDG_RUNTIME_DIR=" + u.run, "PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze --user verify %s: %v\n%s", unitPath, err, out)
	}
}

// TestSystemdUnitStartsAgent runs the unit's ExecStart by hand, as systemd would: %h and %t
// replaced, Environment= applied, a bare environment otherwise. The agent it starts must answer
// on the socket that clients find by default, and stop cleanly on systemd's SIGTERM, exiting 0
// so that Restart=on-failure leaves it stopped.
func TestSystemdUnitStartsAgent(t *testing.T) {
	u := newUser(t)
	installForUnit(t, u)
	expand := strings.NewReplacer("%h", u.home, "%t", u.run).Replace
	service := unitSection(t, unitPath, "Service")
	argv := strings.Fields(expand(service["ExecStart"][0]))
	env := []string{"HOME=" + u.home, "PATH=/usr/local/bin:/usr/bin:/bin"}
	for _, e := range service["Environment"] {
		env = append(env, expand(e))
	}

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		t.Fatalf("ExecStart %q: %v", argv, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	a := waitForAgent(t, u, exited)
	if a.Socket != u.socket() || a.PID != cmd.Process.Pid {
		t.Errorf("agent answering by default = pid %d on %s, want pid %d (ExecStart's own) on %s", a.PID, a.Socket, cmd.Process.Pid, u.socket())
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("agent stopped by SIGTERM: %v, want exit status 0", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("agent did not exit within a minute of SIGTERM")
	}
	if _, err := os.Stat(u.socket()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after the agent stopped, %s is still there (stat: %v)", u.socket(), err)
	}
}

// installForUnit puts the built rhizome where the unit's ExecStart looks: go install's
// ~/go/bin.
func installForUnit(t *testing.T, u *user) {
	t.Helper()
	bin := filepath.Join(u.home, "go", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(binDir, "rhizome"), filepath.Join(bin, "rhizome")); err != nil {
		t.Fatal(err)
	}
}

// unitSection reads the Key=value lines of one [section] of a unit file.
func unitSection(t *testing.T, path, section string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys := map[string][]string{}
	in := false
	for sc := bufio.NewScanner(f); sc.Scan(); {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			in = line == "["+section+"]"
		case in:
			k, v, _ := strings.Cut(line, "=")
			keys[k] = append(keys[k], v)
		}
	}
	if len(keys["ExecStart"]) != 1 {
		t.Fatalf("%s: [%s] has %d ExecStart lines, want 1", path, section, len(keys["ExecStart"]))
	}
	return keys
}

// waitForAgent waits until an agent answers on the user's default socket, or the process that
// should become it exits.
func waitForAgent(t *testing.T, u *user, exited <-chan error) agentInfo {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("ExecStart exited before an agent answered: %v", err)
		default:
		}
		if a, ok := u.agent(); ok {
			return a
		}
	}
	t.Fatal("no agent answered on the default socket within 30s of ExecStart")
	return agentInfo{}
}
