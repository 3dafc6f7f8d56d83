package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readmeLines returns the lines of ../README.md that start with one of prefixes, in order: the
// tests below run exactly what the README tells people to put in their profiles.
func readmeLines(t *testing.T, prefixes ...string) string {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(line, p) {
				out = append(out, line)
			}
		}
	}
	if len(out) != len(prefixes) {
		t.Fatalf("README.md has %d lines starting with %q, want %d", len(out), prefixes, len(prefixes))
	}
	return strings.Join(out, "\n") + "\n"
}

// startForward starts a simulated forward for status to count. Its port is not pinned: a port
// picked free and then released can be taken by someone else before the forward binds it, and
// an unpinned forward moves past a busy one.
func startForward(t *testing.T, u *user) {
	t.Helper()
	u.rhizome("forward", "na-prod", "bookkeeper")
}

// TestStatusInPrompts puts the README's prompt lines into bash and zsh, and its tmux lines
// into a tmux whose screen the test reads: nothing is shown with no agent, "[1 ready]" (or
// "1 ready" in tmux's status bar) once a forward is up.
func TestStatusInPrompts(t *testing.T) {
	shells := []struct {
		name, prompt string
		setup        func(t *testing.T, u *user) []string
	}{
		{"bash", "bash$ ", func(t *testing.T, u *user) []string {
			rc := filepath.Join(u.home, ".bashrc")
			writeFile(t, rc, "PS1='bash$ '\n"+readmeLines(t, `PS1='$(s=$(rhizome status)`))
			return []string{"bash", "--noprofile", "--rcfile", rc, "-i"}
		}},
		{"zsh", "zsh% ", func(t *testing.T, u *user) []string {
			zdot := filepath.Join(u.home, "zsh")
			writeFile(t, filepath.Join(zdot, ".zshrc"), "PROMPT='zsh%% '\n"+readmeLines(t, "setopt PROMPT_SUBST", `PROMPT='$(s=$(rhizome status)`))
			u.setenv("ZDOTDIR", zdot)
			return []string{"zsh", "-d", "-i"}
		}},
	}
	for _, sh := range shells {
		t.Run(sh.name, func(t *testing.T) {
			t.Parallel()
			requireProgram(t, sh.name)
			u := newUser(t)
			u.setenv("RHIZOME_SIMULATE", "true")
			term := startTerminal(t, u, sh.setup(t, u)...)
			term.waitPrompt(sh.prompt, "")
			startForward(t, u)
			term.press("Enter")
			term.waitPrompt("[1 ready] "+sh.prompt, "")
		})
	}

	t.Run("tmux", func(t *testing.T) {
		t.Parallel()
		requireProgram(t, "tmux")
		u := newUser(t)
		u.setenv("RHIZOME_SIMULATE", "true")
		conf := filepath.Join(u.home, "tmux.conf")
		writeFile(t, conf, readmeLines(t, "set -g status-right '#(rhizome status)", "set -g status-interval"))
		// The tmux under test runs inside the test's terminal, so its status bar is on the screen.
		inner := filepath.Join(u.dir, "inner")
		term := startTerminal(t, u, "tmux", "-S", inner, "-f", conf, "new-session", "sh")
		t.Cleanup(func() { _ = u.command("tmux", "-S", inner, "kill-server").Run() })
		startForward(t, u)
		var screen string
		for deadline := time.Now().Add(screenTimeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if screen = term.screen(); strings.Contains(screen, "1 ready") {
				return
			}
		}
		t.Fatalf("tmux's status bar never showed 1 ready; the screen:\n%s", screen)
	})
}
