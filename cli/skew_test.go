package cli_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVersionSkew runs an agent from an older build, then this build's rhizome agent: it must
// say on stderr that the agent runs another version, naming both and the restart command,
// while its stdout stays the shell lines, exactly as the old agent's own.
func TestVersionSkew(t *testing.T) {
	oldDir := t.TempDir()
	old := filepath.Join(oldDir, "rhizome")
	build := exec.Command("go", "build", "-ldflags=-X github.com/rhizome-dev/rhizome/cli.Version=0.0.1-old", "-o", old, "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the old rhizome: %v\n%s", err, out)
	}
	u := newUserEnv(t)
	oldCmd := exec.Command(old, "agent")
	oldCmd.Env = u.vars
	oldLines, err := oldCmd.Output()
	if err != nil {
		t.Fatalf("old rhizome agent: %v", err)
	}
	version, err := u.run("version")
	if err != nil {
		t.Fatal(err)
	}
	this, _, _ := strings.Cut(strings.TrimPrefix(version, "rhizome "), " ")

	cmd := u.command("agent")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	lines, err := cmd.Output()
	if err != nil {
		t.Fatalf("rhizome agent beside an old agent: %v: %s", err, stderr.String())
	}
	if string(lines) != string(oldLines) {
		t.Errorf("stdout = %q, want the shell lines as the old agent's starter printed them: %q", lines, oldLines)
	}
	want := "runs rhizome 0.0.1-old, this is rhizome " + this + `: restart it with rhizome agent -k, then eval "$(rhizome agent)"`
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr = %q, want it to contain %q", stderr.String(), want)
	}

	// The same binary as the agent says nothing.
	u.must("agent", "-k")
	u.must("agent")
	cmd = u.command("agent")
	stderr.Reset()
	cmd.Stderr = &stderr
	if _, err := cmd.Output(); err != nil || stderr.Len() != 0 {
		t.Errorf("rhizome agent beside its own agent: %v, stderr %q, want silence", err, stderr.String())
	}
}
