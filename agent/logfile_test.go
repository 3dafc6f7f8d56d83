package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/proc"
	"github.com/rhizome-dev/rhizome/rpc"
)

// TestLogfileRotates writes past the cap and checks the seed's format survives, the file never
// grows much past the cap, and the previous file is kept as agent.log.1.
func TestLogfileRotates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "agent.log")
	lf := openLogFile(path, 4096, nil)
	defer lf.Close()
	at := time.Date(2026, 11, 26, 22, 46, 6, 0, time.Local)
	for i := 0; i < 200; i++ {
		lf.WriteLines([]proc.Line{{Time: at, PID: 93302, Name: "sleeper", Text: "0"}})
	}
	if w := lf.Warning(); w != "" {
		t.Fatalf("Warning() = %q", w)
	}
	cur, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(path + ".1")
	if err != nil {
		t.Fatalf("no rotated file: %v", err)
	}
	if len(cur) > 4096 || len(old) > 4096 {
		t.Errorf("sizes %d and %d, want both at most the 4096-byte cap", len(cur), len(old))
	}
	want := string(rpc.AppendDatedLogLine(nil, at, "0", "sleeper", 93302)) // 2026-…-… 22:46:06 0 …
	if first := strings.SplitAfter(string(cur), "\n")[0]; first != want {
		t.Errorf("first line %q, want %q", first, want)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("logfile mode %v, want 0600", info.Mode().Perm())
	}
}
