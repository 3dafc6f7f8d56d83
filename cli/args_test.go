package cli

import (
	"io"
	"slices"
	"strings"
	"testing"
)

func TestFlagsFirst(t *testing.T) {
	tests := []struct {
		name string
		line string // after "rhizome"
		want string
	}{
		{name: "flags already first", line: "forward --json na-prod bookkeeper", want: "forward --json na-prod bookkeeper"},
		{name: "switch after the arguments", line: "forward na-prod bookkeeper --json", want: "forward --json na-prod bookkeeper"},
		{name: "value flag between arguments", line: "forward na-prod --port 3310 bookkeeper", want: "forward --port 3310 na-prod bookkeeper"},
		{name: "flag=value", line: "forward na-prod bookkeeper --port=3310", want: "forward --port=3310 na-prod bookkeeper"},
		{name: "short flags and aliases", line: "logs sleeper -f -n 5", want: "logs -f -n 5 sleeper"},
		{name: "a value that looks like an argument stays with its flag", line: "logs -n 5 sleeper", want: "logs -n 5 sleeper"},
		{name: "everything after -- is the command's", line: "forward --exec na-prod bookkeeper -- mysql --json -n 5", want: "forward --exec na-prod bookkeeper -- mysql --json -n 5"},
		{name: "flags before -- move, the rest stays", line: "forward na-prod bookkeeper --exec -- sh -c 'x'", want: "forward --exec na-prod bookkeeper -- sh -c 'x'"},
		{name: "global flag after the command", line: "ps --socket /x.sock --json", want: "--socket /x.sock ps --json"},
		{name: "global flag before the command", line: "--socket /x.sock stop sleeper --json", want: "--socket /x.sock stop --json sleeper"},
		{name: "unknown flag moves so urfave/cli names it", line: "stop sleeper --bogus", want: "stop --bogus sleeper"},
		{name: "flag missing its value", line: "logs sleeper -n", want: "logs -n"},
		{name: "help after an argument", line: "forward na-prod --help", want: "forward --help na-prod"},
		{name: "dash alone is an argument", line: "logs - -f", want: "logs -f -"},
		{name: "unknown command: unchanged", line: "nope a --json", want: "nope a --json"},
		{name: "own flag parsing: unchanged", line: "_simulate-forward a --b", want: "_simulate-forward a --b"},
		{name: "only global flags", line: "--socket /x.sock", want: "--socket /x.sock"},
	}
	app := newApp(io.Discard, io.Discard)
	app.Setup()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"rhizome"}, strings.Fields(tt.line)...)
			got := flagsFirst(app, args)
			want := append([]string{"rhizome"}, strings.Fields(tt.want)...)
			if !slices.Equal(got, want) {
				t.Errorf("flagsFirst(%q) = %q, want %q", tt.line, got[1:], want[1:])
			}
		})
	}
}
