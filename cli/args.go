package cli

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// urfave/cli parses a command's flags with Go's flag package, which stops at the first
// argument: `forward na-prod bookkeeper --json` would pass --json as an argument. People type
// flags where kubectl lets them, so flagsFirst moves them ahead of the arguments before
// urfave/cli parses. Which flags take a value is read only from the flag definitions.

// flagsFirst rewrites args (args[0] is the program) so that the command's flags come before its
// arguments, as if they had been typed there. Global flags typed after the command move before
// it. From "--" on, the words stay as typed: they are the command's. A command that parses its
// own flags (SkipFlagParsing), one with subcommands, or an unknown name leaves args unchanged.
func flagsFirst(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	global := readWords(app.Flags, nil, args[1:], false)
	if global.pending != "" || len(global.args) == 0 {
		return args
	}
	cmd := findCommand(app.Commands, global.args[0])
	if cmd == nil || cmd.SkipFlagParsing || len(cmd.Subcommands) > 0 {
		return args
	}
	own := readWords(commandFlags(cmd), app.Flags, global.args[1:], true)
	out := append([]string{args[0]}, global.flags...)
	out = append(out, own.outer...)
	out = append(out, global.args[0])
	out = append(out, own.flags...)
	if own.pending != "" {
		// The last word is a flag without its value: the line is wrong whatever the
		// arguments, so they go, and urfave/cli says that flag needs a value rather than
		// taking an argument for it.
		return append(out, own.pending)
	}
	out = append(out, own.args...)
	return append(out, own.tail...)
}

// readResult is a run of words sorted the way urfave/cli will read them.
type readResult struct {
	flags   []string          // flag words, each followed by its value word if it takes one
	outer   []string          // the same for flags found only among the outer definitions
	values  map[string]string // flag values by the flag's first name
	args    []string          // the other words before "--"
	tail    []string          // "--" and every word after it, as typed
	pending string            // the last word, a flag that still awaits its value; not in flags
}

// readWords sorts words into flags (defined by defs, else by outer) and arguments. With
// interleaved, flags may follow arguments, up to "--"; without it (a level that names a
// subcommand next), the first argument ends the flags and it and all after it are args. A word
// that looks like a flag but is defined nowhere stays a flag, so urfave/cli names it in its
// error.
func readWords(defs, outer []cli.Flag, words []string, interleaved bool) readResult {
	r := readResult{values: map[string]string{}}
	for i := 0; i < len(words); i++ {
		w := words[i]
		if w == "--" {
			r.tail = words[i:]
			return r
		}
		if !looksLikeFlag(w) {
			if !interleaved {
				r.args = words[i:]
				return r
			}
			r.args = append(r.args, w)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(w, "-"), "=")
		dest := &r.flags
		f := findFlag(defs, name)
		if f == nil {
			if g := findFlag(outer, name); g != nil {
				f, dest = g, &r.outer
			}
		}
		if f != nil && !hasValue && takesValue(f) && i+1 == len(words) {
			r.pending = w
			return r
		}
		*dest = append(*dest, w)
		if f == nil {
			continue
		}
		if hasValue || !takesValue(f) {
			r.values[canonicalName(f)] = value
			continue
		}
		i++
		*dest = append(*dest, words[i])
		r.values[canonicalName(f)] = words[i]
	}
	return r
}

// looksLikeFlag is Go's flag package's test: "-" alone is an argument (stdin, by custom).
func looksLikeFlag(w string) bool { return len(w) > 1 && w[0] == '-' }

// commandFlags are the flags urfave/cli gives cmd when it runs it: its own and -h/--help.
func commandFlags(cmd *cli.Command) []cli.Flag {
	if cmd.HideHelp || cli.HelpFlag == nil || findFlag(cmd.Flags, "help") != nil {
		return cmd.Flags
	}
	return append(cmd.Flags[:len(cmd.Flags):len(cmd.Flags)], cli.HelpFlag)
}
