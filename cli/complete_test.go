package cli

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestCompletionRequest(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		want   []string
		wantOK bool
	}{
		{name: "not completion", args: []string{"rhizome", "ps"}},
		{name: "no words", args: []string{"rhizome"}},
		{name: "own protocol", args: []string{"rhizome", "__complete", "forward", "na-"}, want: []string{"forward", "na-"}, wantOK: true},
		{name: "own protocol, nothing typed", args: []string{"rhizome", "__complete"}, want: []string{""}, wantOK: true},
		{name: "urfave after a word", args: []string{"rhizome", "forward", "--generate-bash-completion"}, want: []string{"forward", ""}, wantOK: true},
		{name: "urfave with a flag prefix", args: []string{"rhizome", "forward", "--j", "--generate-bash-completion"}, want: []string{"forward", "--j"}, wantOK: true},
		{name: "urfave alone", args: []string{"rhizome", "--generate-bash-completion"}, want: []string{""}, wantOK: true},
		{name: "urfave after --", args: []string{"rhizome", "forward", "--exec", "a", "b", "--", "ls", "--generate-bash-completion"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, ok := completionRequest(tt.args)
			if ok != tt.wantOK || !slices.Equal(got, tt.want) {
				t.Errorf("completionRequest(%q) = %q, %v, want %q, %v", tt.args, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// TestCompletions runs the completion logic in process, against the built-in environment and
// a config with aliases, with no agent (a socket nobody listens on) and with a wedged one.
func TestCompletions(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, `environment eu-prod
    alias eu
    context gke_x
    namespace ns
    deployment dep
    database ledger
        alias lg
        instance proj:europe-west1:ledger
environment na-prod
    database billing
        instance proj:us-central1:billing
`)
	short, err := os.MkdirTemp("", "rzc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(short) })
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(short, "run"))
	t.Setenv("RHIZOME_SOCK", "")
	wedged := wedgedAgent(t, filepath.Join(short, "wedged.sock"))

	commands := []string{"agent", "forward", "connect", "envs", "sleeper", "ps", "logs", "stop", "status", "doctor", "version", "completion"}
	tests := []struct {
		name  string
		words []string
		want  []string
	}{
		{name: "nothing typed", words: []string{""}, want: commands},
		{name: "no words at all", words: nil, want: commands},
		{name: "command prefix", words: []string{"s"}, want: []string{"sleeper", "stop", "status"}},
		{name: "hidden commands stay hidden", words: []string{"_"}},
		{name: "global flags", words: []string{"--"}, want: []string{"--agent-socket", "--socket", "--help", "--version"}},
		{name: "global flag value", words: []string{"--socket", ""}},
		{name: "command after a global flag", words: []string{"--socket", "/x.sock", "forw"}, want: []string{"forward"}},
		{name: "unknown command", words: []string{"nope", ""}},
		{name: "environments and aliases", words: []string{"forward", ""}, want: []string{"eu-prod", "eu", "na-prod"}},
		{name: "environment prefix", words: []string{"forward", "na-"}, want: []string{"na-prod"}},
		{name: "databases, built-in and configured", words: []string{"forward", "na-prod", ""}, want: []string{"billing", "bookkeeper"}},
		{name: "database prefix", words: []string{"forward", "na-prod", "book"}, want: []string{"bookkeeper"}},
		{name: "databases by environment alias", words: []string{"forward", "eu", ""}, want: []string{"ledger", "lg"}},
		{name: "unknown environment", words: []string{"forward", "nowhere", ""}},
		{name: "nothing after the database", words: []string{"forward", "na-prod", "bookkeeper", ""}},
		{name: "after flags", words: []string{"forward", "--json", "--port", "3310", "na-prod", "b"}, want: []string{"billing", "bookkeeper"}},
		{name: "flag=value", words: []string{"forward", "--port=3310", ""}, want: []string{"eu-prod", "eu", "na-prod"}},
		{name: "flag value is not completed", words: []string{"forward", "--port", ""}},
		{name: "command flags", words: []string{"forward", "-"}, want: []string{"--json", "--port", "--exec", "--socket", "--idle-timeout", "--max-age", "--connect-wait", "--wait", "--help", "-h"}},
		{name: "command flag prefix", words: []string{"forward", "--j"}, want: []string{"--json"}},
		{name: "short and long names", words: []string{"logs", "-"}, want: []string{"--follow", "-f", "--lines", "-n", "--json", "--help", "-h"}},
		{name: "hidden flags stay hidden", words: []string{"agent", "--d"}},
		{name: "flags after an argument", words: []string{"forward", "na-prod", "--j"}, want: []string{"--json"}},
		{name: "argument after a flag after an argument", words: []string{"forward", "na-prod", "--json", "b"}, want: []string{"billing", "bookkeeper"}},
		{name: "flag value after an argument", words: []string{"logs", "sleeper", "-n", ""}},
		{name: "global flag after the command", words: []string{"logs", "--socket", wedged, ""}},
		{name: "flags end at --", words: []string{"forward", "--", "--j"}},
		{name: "the command after --exec --", words: []string{"forward", "--exec", "na-prod", "bookkeeper", "--", ""}},
		{name: "connect: environments", words: []string{"connect", "na-"}, want: []string{"na-prod"}},
		{name: "connect: databases", words: []string{"connect", "eu", ""}, want: []string{"ledger", "lg"}},
		{name: "connect: its flags", words: []string{"connect", "-"}, want: []string{"--wait", "--help", "-h"}},
		{name: "connect: the client's words after --", words: []string{"connect", "na-prod", "bookkeeper", "--", ""}},
		{name: "doctor: environments", words: []string{"doctor", "e"}, want: []string{"eu-prod", "eu"}},
		{name: "doctor: one environment only", words: []string{"doctor", "eu", ""}},
		{name: "shells", words: []string{"completion", ""}, want: []string{"bash", "fish", "zsh"}},
		{name: "no agent: no processes", words: []string{"stop", ""}},
		{name: "wedged agent: no processes", words: []string{"--socket", wedged, "logs", ""}},
		{name: "commands without arguments", words: []string{"ps", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := completions(context.Background(), newApp(io.Discard, io.Discard), tt.words)
			if !slices.Equal(got, tt.want) {
				t.Errorf("completions(%q) = %q, want %q", tt.words, got, tt.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(short, "run")); !os.IsNotExist(err) {
		t.Errorf("completion made the runtime directory (stat: %v); it must never start an agent", err)
	}
}

func writeConfig(t *testing.T, dir, config string) {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", dir)
	if err := os.MkdirAll(filepath.Join(dir, "rhizome"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rhizome", "config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
}

// wedgedAgent listens at path and accepts connections but never answers: an agent stuck in a
// bug, or a stopped (SIGSTOP) one whose backlog still takes connections.
func wedgedAgent(t *testing.T, path string) string {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return path
}
