package cli

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/rhizome-dev/rhizome/env"
)

// flagError rewrites the flag package's errors for people: the flag as they type it (--name,
// not Go's -name), what a valid value looks like, and a flag they may have meant. flags are the
// flags of the command the error is about; global, the app's.
func flagError(cmd *cli.Command, flags, global []cli.Flag, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		msg = fmt.Sprintf("unknown flag %s", dashed(name))
		if near := env.Closest(name, flagNamesOf(append(flags, global...))); near != "" {
			msg += fmt.Sprintf(": did you mean %s?", dashed(near))
		}
		return usageErrorf("%s (see %s)", msg, helpFor(cmd))
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return usageErrorf("%s needs a value: %s (see %s)", dashed(name), wantValue(findFlag(append(flags, global...), name)), helpFor(cmd))
	}
	// invalid value "2x" for flag -idle-timeout: parse error
	// invalid boolean value "x" for -json: parse error
	if rest, ok := strings.CutPrefix(msg, "invalid "); ok {
		if _, rest, ok := strings.Cut(rest, `value "`); ok {
			value, rest, _ := strings.Cut(rest, `" for `)
			rest = strings.TrimPrefix(rest, "flag ")
			name, _, _ := strings.Cut(strings.TrimPrefix(rest, "-"), ":")
			f := findFlag(append(flags, global...), name)
			if cmd != nil && cmd.Name == "forward" && name == "socket" {
				return usageErrorf("forward's --socket takes no value: it prints the forward's own Unix socket; to talk to the agent at %s, use --%s %s (or RHIZOME_SOCK)", value, agentSocketFlag, value)
			}
			if _, isBool := f.(*cli.BoolFlag); isBool {
				return usageErrorf("%s takes no value, got %q (see %s)", dashed(name), value, helpFor(cmd))
			}
			return usageErrorf("%s %q: want %s (see %s)", dashed(name), value, wantValue(f), helpFor(cmd))
		}
	}
	return usageErrorf("%v (see %s)", err, helpFor(cmd))
}

// wantValue says what a valid value of f looks like.
func wantValue(f cli.Flag) string {
	switch f.(type) {
	case *cli.DurationFlag:
		return "a duration such as 90s, 2h or 1h30m"
	case *cli.IntFlag:
		return "a whole number"
	}
	return "a value"
}

func helpFor(cmd *cli.Command) string {
	if cmd == nil {
		return "rhizome --help"
	}
	return "rhizome " + cmd.Name + " --help"
}

func flagNamesOf(flags []cli.Flag) []string {
	var names []string
	for _, f := range flags {
		names = append(names, f.Names()...)
	}
	return names
}

// commandNames are the names a person may type: the visible commands and help.
func commandNames(app *cli.App) []string {
	names := []string{"help"}
	for _, c := range app.VisibleCommands() {
		names = append(names, c.Names()...)
	}
	return names
}

// helpWords turns `rhizome help [CMD]` into `rhizome [CMD] --help`, as git and kubectl read it.
func helpWords(args []string) []string {
	if len(args) < 2 || args[1] != "help" {
		return args
	}
	out := []string{args[0]}
	out = append(out, args[2:]...)
	return append(out, "--help")
}

// packagePrefixes are the package names Go errors start with; a person reading rhizome's
// message needs none of them.
var packagePrefixes = []string{"rpc: ", "forward: ", "proc: ", "env: ", "agent: "}

// withoutPackagePrefix drops a leading package name from msg.
func withoutPackagePrefix(msg string) string {
	for _, p := range packagePrefixes {
		if rest, ok := strings.CutPrefix(msg, p); ok {
			return rest
		}
	}
	return msg
}
