package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// interactiveShell is a shell set up as a user would after the README: the completion
// installed or loaded, and a plain prompt to find the command line by.
type interactiveShell struct {
	name   string
	prompt string
	// setup writes the shell's startup files into u's home and returns the command that runs
	// the shell interactively.
	setup func(t *testing.T, u *user) []string
}

var interactiveShells = []interactiveShell{
	{
		name:   "bash",
		prompt: "bash$ ",
		setup: func(t *testing.T, u *user) []string {
			writeFile(t, filepath.Join(u.home, ".bashrc"), "PS1='bash$ '\nsource <(rhizome completion bash)\n")
			return []string{"bash", "--noprofile", "--rcfile", filepath.Join(u.home, ".bashrc"), "-i"}
		},
	},
	{
		// The README's one-step install: bash-completion loads the script on the first Tab.
		name:   "bash bash-completion",
		prompt: "bash$ ",
		setup: func(t *testing.T, u *user) []string {
			const bashCompletion = "/usr/share/bash-completion/bash_completion"
			if _, err := os.Stat(bashCompletion); err != nil {
				t.Fatalf("bash-completion is not installed: scripts/deps installs it (scripts/test runs it)")
			}
			writeFile(t, filepath.Join(u.dir, "data", "bash-completion", "completions", "rhizome"), u.rhizome("completion", "bash"))
			writeFile(t, filepath.Join(u.home, ".bashrc"), "PS1='bash$ '\nsource "+bashCompletion+"\n")
			return []string{"bash", "--noprofile", "--rcfile", filepath.Join(u.home, ".bashrc"), "-i"}
		},
	},
	{
		// The README's one-step install: the script as _rhizome in a directory of $fpath.
		name:   "zsh fpath",
		prompt: "zsh% ",
		setup: func(t *testing.T, u *user) []string {
			zdot := filepath.Join(u.home, "zsh")
			writeFile(t, filepath.Join(zdot, "functions", "_rhizome"), u.rhizome("completion", "zsh"))
			writeFile(t, filepath.Join(zdot, ".zshrc"), "PROMPT='zsh%% '\nfpath=($ZDOTDIR/functions $fpath)\n"+
				"autoload -Uz compinit && compinit -u -d $ZDOTDIR/.zcompdump\n")
			u.setenv("ZDOTDIR", zdot)
			return []string{"zsh", "-d", "-i"} // -d: no /etc/zsh rc files, only ours
		},
	},
	{
		// The README's profile line: sourced after compinit.
		name:   "zsh source",
		prompt: "zsh% ",
		setup: func(t *testing.T, u *user) []string {
			zdot := filepath.Join(u.home, "zsh")
			writeFile(t, filepath.Join(zdot, ".zshrc"), "PROMPT='zsh%% '\n"+
				"autoload -Uz compinit && compinit -u -d $ZDOTDIR/.zcompdump\nsource <(rhizome completion zsh)\n")
			u.setenv("ZDOTDIR", zdot)
			return []string{"zsh", "-d", "-i"}
		},
	},
	{
		// The README's one-step install: fish autoloads completions/rhizome.fish.
		name:   "fish",
		prompt: "fish> ",
		setup: func(t *testing.T, u *user) []string {
			fishDir := filepath.Join(u.dir, "config", "fish")
			writeFile(t, filepath.Join(fishDir, "completions", "rhizome.fish"), u.rhizome("completion", "fish"))
			// No greeting, a plain prompt, and no autosuggestions: their grey text would read on
			// the screen like completed text.
			writeFile(t, filepath.Join(fishDir, "config.fish"), "set -g fish_greeting\n"+
				"function fish_prompt; echo -n 'fish> '; end\nset -g fish_autosuggestion_enabled 0\n")
			return []string{"fish", "-i"}
		},
	},
}

// TestCompletionInShells types into bash, zsh and fish running in tmux, presses Tab, and reads
// the command line back: the completion scripts as a person meets them.
func TestCompletionInShells(t *testing.T) {
	for _, sh := range interactiveShells {
		t.Run(sh.name, func(t *testing.T) {
			t.Parallel()
			requireProgram(t, strings.Fields(sh.name)[0])
			u := newUser(t)
			term := startTerminal(t, u, sh.setup(t, u)...)
			term.waitPrompt(sh.prompt, "")

			complete := func(typed, want string) {
				t.Helper()
				term.typeText(typed)
				term.press("Tab")
				term.waitPrompt(sh.prompt, want)
				term.press("C-u")
				term.waitPrompt(sh.prompt, "")
			}
			complete("rhizome forw", "rhizome forward")
			complete("rhizome forward na-", "rhizome forward na-prod")
			complete("rhizome forward na-prod book", "rhizome forward na-prod bookkeeper")
			complete("rhizome forward --js", "rhizome forward --json")
			complete("rhizome forward eu-", "rhizome forward eu-prod")     // from the user's config
			complete("rhizome forward eu le", "rhizome forward eu ledger") // by the alias

			// After --, the command line is the command's: a command name, then its files.
			writeFile(t, filepath.Join(u.home, "unique-file.txt"), "x")
			complete("rhizome forward --exec na-prod bookkeeper -- setpri", "rhizome forward --exec na-prod bookkeeper -- setpriv")
			complete("rhizome forward --exec na-prod bookkeeper -- cat "+u.home+"/uniq", "rhizome forward --exec na-prod bookkeeper -- cat "+u.home+"/unique-file.txt")

			// connect: names as for forward; after --, the client's arguments, so file names.
			complete("rhizome connect eu le", "rhizome connect eu ledger")
			complete("rhizome connect na-prod bookkeeper -- "+u.home+"/uniq", "rhizome connect na-prod bookkeeper -- "+u.home+"/unique-file.txt")

			// With no agent, Tab after stop offers nothing, prints nothing and starts nothing;
			// what is typed next lands right after.
			term.typeText("rhizome stop ")
			term.press("Tab")
			term.typeText("X")
			screen := term.waitPrompt(sh.prompt, "rhizome stop X")
			if strings.Contains(screen, "rhizome:") || strings.Contains(screen, "agent") {
				t.Errorf("completing with no agent wrote to the screen:\n%s", screen)
			}
			if _, err := os.Stat(u.socket()); !os.IsNotExist(err) {
				t.Errorf("completing with no agent left %s (stat: %v), want no agent started", u.socket(), err)
			}
			term.press("C-u")
			term.waitPrompt(sh.prompt, "")

			pid := strconv.Itoa(u.startSleeper())
			complete("rhizome stop "+pid[:1], "rhizome stop "+pid)
			complete("rhizome logs sl", "rhizome logs sleeper")
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCompletionShowsEngine: zsh and fish list each database beside its engine.
func TestCompletionShowsEngine(t *testing.T) {
	for _, sh := range interactiveShells {
		if strings.HasPrefix(sh.name, "bash") {
			continue // bash lists bare words
		}
		t.Run(sh.name, func(t *testing.T) {
			t.Parallel()
			requireProgram(t, strings.Fields(sh.name)[0])
			u := newUser(t)
			writeFile(t, filepath.Join(u.dir, "config", "rhizome", "config"), `environment eu-prod
    alias eu
    context gke_x
    namespace ns
    deployment dep
    database ledger
        engine postgres
        instance proj:europe-west1:ledger
    database payroll
        engine sqlserver
        instance proj:europe-west1:payroll
`)
			term := startTerminal(t, u, sh.setup(t, u)...)
			term.waitPrompt(sh.prompt, "")
			term.typeText("rhizome forward eu ")
			term.press("Tab")
			var screen string
			for deadline := time.Now().Add(screenTimeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if screen = term.screen(); regexp.MustCompile(`ledger +\(?(-- )?postgres`).MatchString(screen) &&
					regexp.MustCompile(`payroll +\(?(-- )?sqlserver`).MatchString(screen) {
					return
				}
			}
			t.Errorf("Tab after rhizome forward eu did not list the databases with their engines; the screen:\n%s", screen)
		})
	}
}

// TestCompletionShowsFlagDescriptions: zsh and fish list each flag beside what it does.
func TestCompletionShowsFlagDescriptions(t *testing.T) {
	for _, sh := range interactiveShells {
		if strings.HasPrefix(sh.name, "bash") {
			continue // bash lists bare words
		}
		t.Run(sh.name, func(t *testing.T) {
			t.Parallel()
			requireProgram(t, strings.Fields(sh.name)[0])
			u := newUser(t)
			term := startTerminal(t, u, sh.setup(t, u)...)
			term.waitPrompt(sh.prompt, "")
			term.typeText("rhizome ps --")
			term.press("Tab")
			var screen string
			for deadline := time.Now().Add(screenTimeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if screen = term.screen(); strings.Contains(screen, "print JSON instead of the table") &&
					strings.Contains(screen, "print whole rows") {
					return
				}
			}
			t.Errorf("Tab after rhizome ps -- did not list the flags with what they do; the screen:\n%s", screen)
		})
	}
}
