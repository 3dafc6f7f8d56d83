package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/rhizome-dev/rhizome/env"
	"github.com/rhizome-dev/rhizome/rpc"
)

// completeCommand is the hidden command the shells' completion scripts call:
//
//	rhizome __complete WORD… CURRENT
//
// with the words after "rhizome" up to the cursor, the last being the word under completion
// (empty after a space). It prints the candidates that start with CURRENT, one a line, and
// nothing else: no error ever reaches the command line, and it always exits 0.
const completeCommand = "__complete"

// describeCommand is completeCommand for the shells that show what a candidate is (zsh, fish):
// a candidate may be followed by describeSep and its description (a database's engine).
const describeCommand = "__describe"

// describeSep separates a candidate from its description in describeCommand's answer.
const describeSep = "\t"

// urfaveCompleteFlag is urfave/cli's completion protocol, kept working for its stock scripts:
// the words before the cursor, the word under completion only when it starts with "-", then
// this flag.
const urfaveCompleteFlag = "--generate-bash-completion"

// completionTimeout keeps a Tab press from hanging when the agent is wedged.
const completionTimeout = 300 * time.Millisecond

// completionRequest recognises a completion request in args (args[0] is the program) and
// returns the words to complete, the last being the word under completion, and whether the
// asker reads descriptions (describeCommand).
func completionRequest(args []string) (words []string, described, ok bool) {
	if len(args) < 2 {
		return nil, false, false
	}
	words = args[1:]
	if words[0] == completeCommand || words[0] == describeCommand {
		described = words[0] == describeCommand
		words = words[1:]
		if len(words) == 0 {
			words = []string{""}
		}
		return words, described, true
	}
	last := len(words) - 1
	if words[last] != urfaveCompleteFlag {
		return nil, false, false
	}
	words = words[:last]
	for _, w := range words {
		if w == "--" {
			return nil, false, false // urfave/cli too leaves everything after -- alone
		}
	}
	if len(words) == 0 || !strings.HasPrefix(words[len(words)-1], "-") {
		words = append(words[:len(words):len(words)], "")
	}
	return words, false, true
}

// argCompleter offers the next positional argument of a command, given the ones before it and
// the agent's socket. It returns nil on any error.
type argCompleter func(ctx context.Context, socket string, args []string) []string

// argCompleters are the commands whose arguments complete; the others complete flags only.
var argCompleters = map[string]argCompleter{
	"forward":    completeForward,
	"connect":    completeForward,
	"doctor":     completeEnvironment,
	"logs":       completeProcesses,
	"stop":       completeProcesses,
	"completion": completeShells,
}

// writeCompletions prints the candidates for words, one a line, with their descriptions when
// described. It reads the environment's config and, for the commands that name processes,
// asks the agent, but never starts one.
func writeCompletions(ctx context.Context, w io.Writer, app *cli.App, words []string, described bool) {
	candidates := completions(ctx, app, words)
	if described {
		candidates = describedCompletions(ctx, app, words)
	}
	for _, c := range candidates {
		fmt.Fprintln(w, c)
	}
}

// completions returns the candidates for the last of words, without descriptions.
func completions(ctx context.Context, app *cli.App, words []string) []string {
	var names []string
	seen := map[string]bool{}
	for _, c := range describedCompletions(ctx, app, words) {
		if name, _, _ := strings.Cut(c, describeSep); !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	return names
}

// describedCompletions returns the candidates for the last of words, which are the command
// line after "rhizome", each perhaps with describeSep and its description. It reads the words
// as the command will (see flagsFirst): global flags, the command, then its flags and
// arguments in any order up to "--", after which nothing is offered, as everything there is
// the command's.
func describedCompletions(ctx context.Context, app *cli.App, words []string) []string {
	if len(words) == 0 {
		words = []string{""}
	}
	cur, rest := words[len(words)-1], words[:len(words)-1]
	app.Setup()
	global := readWords(app.Flags, nil, rest, false)
	switch {
	case global.pending != "", len(global.tail) > 0:
		return nil // cur is a flag's value (nothing to offer for a path), or after --
	case len(global.args) == 0 && strings.HasPrefix(cur, "-"):
		return withPrefix(flagNames(app.VisibleFlags(), !app.HideHelp), cur)
	case len(global.args) == 0:
		var names []string
		for _, c := range app.VisibleCommands() {
			for _, n := range c.Names() {
				names = append(names, n+describeSep+c.Usage)
			}
		}
		return withPrefix(names, cur)
	}
	cmd := findCommand(app.VisibleCommands(), global.args[0])
	if cmd == nil || len(cmd.Subcommands) > 0 {
		return nil
	}
	own := readWords(commandFlags(cmd), app.Flags, global.args[1:], true)
	switch {
	case own.pending != "", len(own.tail) > 0:
		return nil
	case strings.HasPrefix(cur, "-"):
		return withPrefix(flagNames(cmd.VisibleFlags(), !cmd.HideHelp), cur)
	}
	complete := argCompleters[cmd.Name]
	if complete == nil {
		return nil
	}
	var socket string // --agent-socket, when the command line gives it
	for _, r := range []readResult{global, own} {
		if v, ok := r.values[agentSocketFlag]; ok {
			socket = v
		}
	}
	return withPrefix(complete(ctx, env.ClientSocket(socket), own.args), cur)
}

func findFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}

func canonicalName(f cli.Flag) string { return f.Names()[0] }

// takesValue tells a flag that reads the next word (--port 3306) from a switch (--json).
func takesValue(f cli.Flag) bool {
	v, ok := f.(interface{ TakesValue() bool })
	return ok && v.TakesValue()
}

func findCommand(commands []*cli.Command, name string) *cli.Command {
	for _, c := range commands {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// flagNames spells flags as a person types them, -x for one letter, --name otherwise, each
// with describeSep and what it does.
func flagNames(flags []cli.Flag, withHelp bool) []string {
	var out []string
	for _, f := range flags {
		usage := ""
		if d, ok := f.(cli.DocGenerationFlag); ok {
			usage = strings.ReplaceAll(d.GetUsage(), "`", "")
		}
		for _, n := range f.Names() {
			out = append(out, dashed(n)+describeSep+usage)
		}
	}
	if withHelp && findFlag(flags, "help") == nil {
		out = append(out, "--help"+describeSep+"show help", "-h"+describeSep+"show help")
	}
	return out
}

// dashed spells a flag as it is typed: -n, --lines.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// withPrefix keeps the candidates that start with prefix, each once, in order. A candidate's
// description (after describeSep) takes no part in the match.
func withPrefix(candidates []string, prefix string) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range candidates {
		name, _, _ := strings.Cut(c, describeSep)
		if strings.HasPrefix(name, prefix) && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// completeForward offers environment names and aliases, then that environment's databases and
// their aliases, each described by its engine, from the built-in environments and the user's
// config.
func completeForward(_ context.Context, _ string, args []string) []string {
	if len(args) > 1 {
		return nil
	}
	catalog, err := env.Load()
	if err != nil {
		return nil
	}
	var out []string
	if len(args) == 0 {
		for _, e := range catalog.Environments() {
			out = append(out, e.Name)
			out = append(out, e.Aliases...)
		}
		return out
	}
	e, err := catalog.Environment(args[0])
	if err != nil {
		return nil
	}
	for _, n := range e.DatabaseNames() {
		db := e.Databases[n]
		for _, name := range append([]string{n}, db.Aliases...) {
			out = append(out, name+describeSep+db.Engine)
		}
	}
	return out
}

// completeEnvironment offers environment names and aliases, for a command that takes one.
func completeEnvironment(ctx context.Context, socket string, args []string) []string {
	if len(args) > 0 {
		return nil
	}
	return completeForward(ctx, socket, args)
}

// completeProcesses offers the pids and names of live processes. It never starts an agent and
// gives up quickly when none answers.
func completeProcesses(ctx context.Context, socket string, args []string) []string {
	if len(args) > 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	defer cancel()
	client, err := rpc.Dial(ctx, socket)
	if err != nil {
		return nil
	}
	defer client.Close()
	r, err := client.Ps(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, p := range r.Running {
		if p.PID > 0 {
			out = append(out, strconv.Itoa(p.PID))
		}
		out = append(out, p.Name)
	}
	return out
}
