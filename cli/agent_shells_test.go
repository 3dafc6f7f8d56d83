package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestAgentOutputInShells evaluates `rhizome agent`'s output for real in each shell, as the
// profile line does, and then `rhizome agent -k`'s: the first must leave RHIZOME_SOCK and
// RHIZOME_AGENT_PID exported with the agent's real socket and pid (so a rhizome run from that
// shell finds it), the second must unset them.
func TestAgentOutputInShells(t *testing.T) {
	// Each script evaluates the lines, saves the environment a child sees and what the agent
	// says of itself, then evaluates -k's lines and saves a child's environment again.
	const (
		shScript   = `eval "$(rhizome agent%[1]s)"; env > before; rhizome version --json > version; eval "$(rhizome agent -k%[1]s)"; env > after`
		cshScript  = "eval `rhizome agent%[1]s`; env > before; rhizome version --json > version; eval `rhizome agent -k%[1]s`; env > after"
		fishScript = `rhizome agent%[1]s | source; env > before; rhizome version --json > version; rhizome agent -k%[1]s | source; env > after`
	)
	tests := []struct {
		name   string
		shell  string // the shell that evaluates
		flag   string // the syntax flag, or "" for the default from $SHELL
		SHELL  string // $SHELL, which the flag overrides
		script string
	}{
		{name: "sh default", shell: "sh", SHELL: "sh", script: shScript},
		{name: "sh -s over a fish SHELL", shell: "sh", flag: " -s", SHELL: "fish", script: shScript},
		{name: "bash default", shell: "bash", SHELL: "bash", script: shScript},
		{name: "zsh default", shell: "zsh", SHELL: "zsh", script: shScript},
		{name: "zsh -s over a tcsh SHELL", shell: "zsh", flag: " -s", SHELL: "tcsh", script: shScript},
		{name: "csh default", shell: "csh", SHELL: "csh", script: cshScript},
		{name: "tcsh default", shell: "tcsh", SHELL: "tcsh", script: cshScript},
		{name: "tcsh -c over a bash SHELL", shell: "tcsh", flag: " -c", SHELL: "bash", script: cshScript},
		{name: "fish default", shell: "fish", SHELL: "fish", script: fishScript},
		{name: "fish --fish over an sh SHELL", shell: "fish", flag: " --fish", SHELL: "sh", script: fishScript},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			shell := requireProgram(t, tt.shell)
			u := newUser(t)
			u.setenv("SHELL", requireProgram(t, tt.SHELL))
			script := fmt.Sprintf(tt.script, tt.flag)
			out, err := u.command(shell, "-c", script).CombinedOutput()
			if err != nil {
				t.Fatalf("%s -c %q: %v\n%s", tt.shell, script, err, out)
			}

			var version struct {
				Agent *agentInfo `json:"agent"`
			}
			if err := json.Unmarshal([]byte(readFile(t, u.home, "version")), &version); err != nil || version.Agent == nil {
				t.Fatalf("rhizome version --json, run in %s after the eval, found no agent (%v); the shell said:\n%s", tt.shell, err, out)
			}
			a := version.Agent
			if a.Socket != u.socket() {
				t.Errorf("agent socket = %s, want the default %s", a.Socket, u.socket())
			}
			want := []string{"RHIZOME_AGENT_PID=" + strconv.Itoa(a.PID), "RHIZOME_SOCK=" + a.Socket}
			if got := agentVars(readFile(t, u.home, "before")); !slices.Equal(got, want) {
				t.Errorf("after eval, a child of %s sees %q, want %q", tt.shell, got, want)
			}
			if got := agentVars(readFile(t, u.home, "after")); len(got) > 0 {
				t.Errorf("after eval of agent -k, a child of %s still sees %q, want both unset", tt.shell, got)
			}
			for _, want := range []string{fmt.Sprintf("Agent pid %d\n", a.PID), fmt.Sprintf("Agent pid %d killed\n", a.PID)} {
				if !strings.Contains(string(out), want) {
					t.Errorf("%s printed %q, want it to contain %q", tt.shell, out, want)
				}
			}
			if _, err := os.Stat(u.socket()); !os.IsNotExist(err) {
				t.Errorf("after agent -k, %s is still there (stat: %v)", u.socket(), err)
			}
		})
	}
}

// agentVars picks the RHIZOME_SOCK and RHIZOME_AGENT_PID lines out of env's output, sorted.
func agentVars(environ string) []string {
	var vars []string
	for _, line := range strings.Split(environ, "\n") {
		if strings.HasPrefix(line, "RHIZOME_SOCK=") || strings.HasPrefix(line, "RHIZOME_AGENT_PID=") {
			vars = append(vars, line)
		}
	}
	slices.Sort(vars)
	return vars
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAgentQuotesSocketPathInShells gives `rhizome agent -a` a socket path full of what shells
// treat specially (a quote, $, a backquote, a backslash, !, ;, *, a space) and evaluates its
// output for real in each shell: the variable a child sees is the path, byte for byte, and no
// shell ran anything the path spells.
func TestAgentQuotesSocketPathInShells(t *testing.T) {
	const odd = "q'd $HOME `touch pwned` \\z!w;*"
	tests := []struct {
		shell, script string
	}{
		{"sh", `eval "$(rhizome agent -s -a "$SOCK")"; printenv RHIZOME_SOCK > got`},
		{"bash", `eval "$(rhizome agent -s -a "$SOCK")"; printenv RHIZOME_SOCK > got`},
		{"zsh", `eval "$(rhizome agent -s -a "$SOCK")"; printenv RHIZOME_SOCK > got`},
		{"tcsh", "eval `rhizome agent -c -a \"$SOCK\"`; printenv RHIZOME_SOCK > got"},
		{"csh", "eval `rhizome agent -c -a \"$SOCK\"`; printenv RHIZOME_SOCK > got"},
		{"fish", `rhizome agent --fish -a "$SOCK" | source; printenv RHIZOME_SOCK > got`},
	}
	for _, tt := range tests {
		t.Run(tt.shell, func(t *testing.T) {
			t.Parallel()
			shell := requireProgram(t, tt.shell)
			u := newUser(t)
			dir := filepath.Join(u.dir, odd)
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			sock := filepath.Join(dir, "a.sock")
			u.setenv("SOCK", sock)
			t.Cleanup(func() {
				cmd := u.command(filepath.Join(binDir, "rhizome"), "agent", "-k", "-a", sock)
				_ = cmd.Run()
			})
			out, err := u.command(shell, "-c", tt.script).CombinedOutput()
			if err != nil {
				t.Fatalf("%s -c %q: %v\n%s", tt.shell, tt.script, err, out)
			}
			if got := strings.TrimSuffix(readFile(t, u.home, "got"), "\n"); got != sock {
				t.Errorf("after eval in %s, RHIZOME_SOCK = %q, want %q; the shell said:\n%s", tt.shell, got, sock, out)
			}
			if _, err := os.Stat(filepath.Join(u.home, "pwned")); err == nil {
				t.Errorf("%s ran the command spelled in the socket path", tt.shell)
			}
		})
	}
}

// TestAgentRefusesPathCshCannotCarry: csh's eval `…` joins words back with one space, so a run
// of blanks cannot reach it intact; the path is refused, with nothing on stdout.
func TestAgentRefusesPathCshCannotCarry(t *testing.T) {
	u := newUser(t)
	cmd := u.command(filepath.Join(binDir, "rhizome"), "agent", "-c", "-a", filepath.Join(u.dir, "a  b.sock"))
	out, err := cmd.Output()
	if err == nil || len(out) > 0 {
		t.Fatalf("rhizome agent -c -a 'a  b.sock' = %q, %v; want a refusal and no output", out, err)
	}
}

// TestProfileLinesInShells runs the README's profile lines, exactly, in the shells they are for,
// with $SHELL naming another shell (as when bash reads .bashrc under a fish login): each must
// export the agent's variables in its own syntax and print nothing, as every new shell and tmux
// pane would show it.
func TestProfileLinesInShells(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{} // the README's line for each family
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, `eval "$(rhizome agent`):
			lines["sh"] = line
		case strings.HasPrefix(line, "rhizome agent --fish"):
			lines["fish"] = line
		case strings.HasPrefix(line, "eval `rhizome agent"):
			lines["csh"] = line
		}
	}
	tests := []struct{ shell, family, SHELL string }{
		{"bash", "sh", "fish"},
		{"zsh", "sh", "tcsh"},
		{"fish", "fish", "bash"},
		{"tcsh", "csh", "zsh"},
	}
	for _, tt := range tests {
		t.Run(tt.shell, func(t *testing.T) {
			t.Parallel()
			line := lines[tt.family]
			if line == "" {
				t.Fatalf("README.md has no profile line for %s", tt.family)
			}
			shell := requireProgram(t, tt.shell)
			u := newUser(t)
			u.setenv("SHELL", requireProgram(t, tt.SHELL))
			script := line + "; env > vars"
			out, err := u.command(shell, "-c", script).CombinedOutput()
			if err != nil || len(out) > 0 {
				t.Fatalf("%s -c %q with SHELL=%s: %v, printed %q; want nothing printed", tt.shell, script, tt.SHELL, err, out)
			}
			a, ok := u.agent()
			if !ok {
				t.Fatal("no agent answers after the profile line")
			}
			want := []string{"RHIZOME_AGENT_PID=" + strconv.Itoa(a.PID), "RHIZOME_SOCK=" + u.socket()}
			if got := agentVars(readFile(t, u.home, "vars")); !slices.Equal(got, want) {
				t.Errorf("after the profile line, a child of %s sees %q, want %q", tt.shell, got, want)
			}
		})
	}
}
