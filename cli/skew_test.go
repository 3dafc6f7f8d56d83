package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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

// TestVersionWithoutLdflags builds rhizome as `go install …@latest` or a plain `go build` in a
// checkout does, with no -ldflags: the version comes from the build info (the module's
// version, here the pseudo-version of the commit), with +dirty for uncommitted changes, so the
// skew check never compares "dev" with "dev".
func TestVersionWithoutLdflags(t *testing.T) {
	git := requireProgram(t, "git")
	files, err := exec.Command(git, "-C", "..", "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	repo := t.TempDir()
	for _, f := range strings.Fields(string(files)) {
		data, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			continue // deleted in the work tree
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(repo, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repo, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=true", "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run(git, "init", "-q")
	run(git, "add", "-A")
	run(git, "commit", "-qm", "release")
	bin := filepath.Join(repo, "rhizome-built")
	for _, tt := range []struct {
		name string
		want *regexp.Regexp
	}{
		{"clean", regexp.MustCompile(`^rhizome v0\.0\.0-\d{14}-[0-9a-f]{12} \(protocol \d+\)$`)},
		{"dirty", regexp.MustCompile(`^rhizome v0\.0\.0-\d{14}-[0-9a-f]{12}\+dirty \(protocol \d+\)$`)},
	} {
		if tt.name == "dirty" {
			if err := os.WriteFile(filepath.Join(repo, "README.md"), []byte("changed\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		run("go", "build", "-o", bin, ".")
		out := run(bin, "version")
		if first, _, _ := strings.Cut(out, "\n"); !tt.want.MatchString(first) {
			t.Errorf("%s build: rhizome version printed %q, want it to match %s", tt.name, first, tt.want)
		}
	}
}
