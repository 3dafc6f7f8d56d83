package cli

import (
	"context"
	"embed"
	"fmt"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
)

// completionScripts are the shells' completion scripts. They are the one source of truth:
// scripts/completion/ holds copies for packagers, and a test fails when those drift.
//
//go:embed completion/rhizome.bash completion/_rhizome completion/rhizome.fish
var completionScripts embed.FS

// completionFiles names each shell's script, as shells look for it when installed.
var completionFiles = map[string]string{
	"bash": "rhizome.bash",
	"zsh":  "_rhizome",
	"fish": "rhizome.fish",
}

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the completion script for bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Description: `Load it from your shell's startup file, or install it once (see README):

   source <(rhizome completion bash)      # ~/.bashrc
   source <(rhizome completion zsh)       # ~/.zshrc, after compinit
   rhizome completion fish > ~/.config/fish/completions/rhizome.fish

Completion offers commands, flags, environment names and aliases, databases, and the pids and
names of running processes. Only the last come from the agent: completion never starts one, and
offers nothing rather than wait when none answers.`,
		Action: runCompletion,
	}
}

func runCompletion(c *cli.Context) error {
	if c.NArg() > 1 {
		return extraArg(c, 1, "one shell")
	}
	if c.NArg() == 0 {
		return usageErrorf("completion takes one shell: %s", strings.Join(completionShellNames(), ", "))
	}
	script, err := completionScript(c.Args().First())
	if err != nil {
		return usageError{err}
	}
	_, err = c.App.Writer.Write(script)
	return err
}

// completionScript returns the completion script for shell: bash, zsh or fish.
func completionScript(shell string) ([]byte, error) {
	name, ok := completionFiles[shell]
	if !ok {
		return nil, fmt.Errorf("no completion for shell %q; there is one for %s", shell, strings.Join(completionShellNames(), ", "))
	}
	return completionScripts.ReadFile("completion/" + name)
}

func completionShellNames() []string {
	names := make([]string, 0, len(completionFiles))
	for n := range completionFiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// completeShells offers the shells `rhizome completion` knows.
func completeShells(_ context.Context, _ string, args []string) []string {
	if len(args) > 0 {
		return nil
	}
	return completionShellNames()
}
