package cli_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// screenTimeout bounds waiting for a shell to show something; a healthy one takes milliseconds.
const screenTimeout = 30 * time.Second

// terminal is an interactive program running in its own tmux server, 200×50, which a test
// types into and reads the screen of, as a person would.
type terminal struct {
	t    *testing.T
	sock string
}

// startTerminal runs argv in a new tmux server of its own, with the user's environment. The
// server is killed at cleanup.
func startTerminal(t *testing.T, u *user, argv ...string) *terminal {
	t.Helper()
	requireProgram(t, "tmux")
	term := &terminal{t: t, sock: filepath.Join(u.dir, "tmux")}
	args := append([]string{"new-session", "-d", "-x", "200", "-y", "50", "--"}, argv...)
	if out, err := term.tmux(u, args...).CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = term.tmux(u, "kill-server").Run() })
	return term
}

// tmux prepares a tmux command for this terminal's server. -f /dev/null keeps the machine's
// tmux.conf out; the server takes its environment from the command that starts it.
func (term *terminal) tmux(u *user, args ...string) *exec.Cmd {
	cmd := exec.Command("tmux", append([]string{"-S", term.sock, "-f", "/dev/null"}, args...)...)
	if u != nil {
		cmd.Env = u.env
	}
	return cmd
}

// typeText types text literally.
func (term *terminal) typeText(text string) {
	term.t.Helper()
	term.send("-l", text)
}

// press presses keys by tmux's names: Tab, Enter, C-u.
func (term *terminal) press(keys ...string) {
	term.t.Helper()
	term.send(keys...)
}

func (term *terminal) send(args ...string) {
	term.t.Helper()
	if out, err := term.tmux(nil, append([]string{"send-keys", "-t", "0"}, args...)...).CombinedOutput(); err != nil {
		term.t.Fatalf("tmux send-keys %q: %v\n%s", args, err, out)
	}
}

// screen returns what the terminal shows.
func (term *terminal) screen() string {
	term.t.Helper()
	out, err := term.tmux(nil, "capture-pane", "-p", "-t", "0").Output()
	if err != nil {
		term.t.Fatalf("tmux capture-pane: %v", err)
	}
	return string(out)
}

// waitPrompt waits until the last line that starts with prompt reads prompt+want (trailing
// spaces aside), and returns the screen then.
func (term *terminal) waitPrompt(prompt, want string) string {
	term.t.Helper()
	want = strings.TrimRight(prompt+want, " ")
	var screen string
	for deadline := time.Now().Add(screenTimeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		screen = term.screen()
		if promptLine(screen, prompt) == want {
			return screen
		}
	}
	term.t.Fatalf("the command line never read %q; the screen:\n%s", want, strings.TrimRight(screen, "\n"))
	return ""
}

// promptLine is the last line of screen that starts with prompt, without trailing spaces.
func promptLine(screen, prompt string) string {
	prompt = strings.TrimRight(prompt, " ")
	lines := strings.Split(screen, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if line := strings.TrimRight(lines[i], " "); strings.HasPrefix(line, prompt) {
			return line
		}
	}
	return ""
}
