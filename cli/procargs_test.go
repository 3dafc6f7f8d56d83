package cli

import (
	"os"
	"slices"
	"testing"
)

// TestProcessArgs reads this test binary's own command line from the kernel, as agent -k reads
// the one of $RHIZOME_AGENT_PID (/proc on Linux, kern.procargs2 on macOS).
func TestProcessArgs(t *testing.T) {
	got, err := processArgs(os.Getpid())
	if err != nil || !slices.Equal(got, os.Args) {
		t.Errorf("processArgs(own pid) = %q, %v; want %q", got, err, os.Args)
	}
	if _, err := processArgs(1 << 30); err == nil {
		t.Errorf("processArgs(no such pid) = nil error, want one")
	}
}

func TestIsAgentCommand(t *testing.T) {
	tests := []struct {
		name string
		argv []string
		want bool
	}{
		{"daemon", []string{"/home/u/go/bin/rhizome", "agent", "--daemon"}, true},
		{"foreground", []string{"rhizome", "--socket", "/tmp/s", "agent", "-D"}, true},
		{"other command", []string{"/usr/bin/rhizome", "ps"}, false},
		{"other program", []string{"/bin/sleep", "agent"}, false},
		{"rhizome in an argument", []string{"/bin/sh", "-c", "rhizome agent"}, false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		if got := isAgentCommand(tt.argv); got != tt.want {
			t.Errorf("%s: isAgentCommand(%q) = %v, want %v", tt.name, tt.argv, got, tt.want)
		}
	}
}
