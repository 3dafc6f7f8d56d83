package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rhizome-dev/rhizome/rpc"
)

func TestStatusLine(t *testing.T) {
	fwd := func(state string) rpc.Process { return rpc.Process{Kind: "forward", State: state} }
	tests := []struct {
		name  string
		procs []rpc.Process
		want  string
	}{
		{name: "nothing", want: ""},
		{name: "only a sleeper", procs: []rpc.Process{{Kind: "sleeper", State: "running"}}, want: ""},
		{name: "one ready", procs: []rpc.Process{fwd("ready")}, want: "1 ready"},
		{
			name:  "ready first, then by name",
			procs: []rpc.Process{fwd("restarting"), fwd("ready"), fwd("failed"), fwd("ready"), {Kind: "simulated-forward", State: "ready"}, {Kind: "sleeper", State: "running"}},
			want:  "3 ready, 1 failed, 1 restarting",
		},
		{name: "none ready", procs: []rpc.Process{fwd("starting"), fwd("needs-login")}, want: "1 needs-login, 1 starting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := statusLine(tt.procs); got != tt.want {
				t.Errorf("statusLine(%v) = %q, want %q", tt.procs, got, tt.want)
			}
		})
	}
}

// TestStatusWedgedAgent: an agent that takes the connection and never answers costs the prompt
// half a second and prints nothing, not an error.
func TestStatusWedgedAgent(t *testing.T) {
	short, err := os.MkdirTemp("", "rzs")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(short) })
	wedged := wedgedAgent(t, filepath.Join(short, "wedged.sock"))
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"rhizome", "status", "--socket", wedged}, &stdout, &stderr); code != 0 || stdout.Len() > 0 || stderr.Len() > 0 {
		t.Errorf("status with a wedged agent = %d, stdout %q, stderr %q; want 0 and nothing", code, stdout.String(), stderr.String())
	}
}
