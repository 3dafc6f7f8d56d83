//go:build linux

package agent

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/rpc"
)

// TestFullLogDirectory puts the logfile on a 64 KiB tmpfs and fills it, before the agent
// starts and while it runs: the agent keeps serving, says so in ps and on stderr, keeps the
// children's lines for logs, and writes the logfile again once there is room.
func TestFullLogDirectory(t *testing.T) {
	for _, fullAtStart := range []bool{true, false} {
		name := map[bool]string{true: "full at start", false: "full later"}[fullAtStart]
		t.Run(name, func(t *testing.T) {
			logDir := tinyTmpfs(t)
			logFile := filepath.Join(logDir, "agent.log")
			var filler string
			if fullAtStart {
				filler = fill(t, logDir)
			}
			var stderr syncBuffer
			a := startAgentWith(t, func(c *Config) { c.LogFile, c.Stderr = logFile, &stderr })
			c := dialAgent(t, a)
			ctx := t.Context()
			if fullAtStart {
				if !strings.Contains(stderr.String(), "rhizome agent: logfile "+logFile+" is not being written: write "+logFile+": no space left on device") {
					t.Errorf("stderr at start = %q, want a warning that the logfile cannot be written", stderr.String())
				}
			} else {
				if ps, err := c.Ps(ctx); err != nil || len(ps.Warnings) != 0 {
					t.Fatalf("Ps() before the disk fills = %+v, %v; want no warnings", ps, err)
				}
				filler = fill(t, logDir)
			}

			// More output than the page the logfile ends in can take: tmpfs counts whole pages.
			t.Setenv(chattyEnv, "300")
			s, err := c.Sleeper(ctx, rpc.SleeperParams{})
			if err != nil {
				t.Fatalf("Sleeper() with a full log directory = %v", err)
			}
			os.Unsetenv(chattyEnv)
			waitFor(t, "the chatty sleeper's last line in logs", func() bool {
				r, err := c.Logs(ctx, rpc.LogsParams{Target: itoa(s.PID), Lines: 2})
				return err == nil && len(r.Lines) == 2 && r.Lines[0].Text == "line 299"
			})
			ps, err := c.Ps(ctx)
			if err != nil || len(ps.Warnings) != 1 || !strings.Contains(ps.Warnings[0], "no space left on device") {
				t.Errorf("Ps() with a full log directory = warnings %q, %v; want one about no space", ps.Warnings, err)
			}
			if v, err := c.Version(ctx); err != nil || len(v.Warnings) != 1 {
				t.Errorf("Version() with a full log directory = warnings %q, %v; want the same warning", v.Warnings, err)
			}

			// Room again: after the retry period, new lines reach the file and the warning goes.
			// A short sleeper now and then makes lines; not too many, or they fill it again.
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
				s, err := c.Sleeper(ctx, rpc.SleeperParams{Interval: 0.001})
				if err != nil {
					t.Fatal(err)
				}
				waitFinished(t, c, s)
				ps, _ := c.Ps(ctx)
				b, _ := os.ReadFile(logFile)
				if len(ps.Warnings) == 0 && bytes.Contains(b, []byte("subprocess finished status=0   [sleeper] pid="+itoa(s.PID))) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("20s after the disk had room again: ps warnings %q, logfile:\n%s", ps.Warnings, b)
				}
			}
		})
	}
}

// waitFinished waits until logs shows that the sleeper s has finished.
func waitFinished(t *testing.T, c *rpc.Client, s rpc.Started) {
	t.Helper()
	waitFor(t, "the sleeper to finish", func() bool {
		r, err := c.Logs(t.Context(), rpc.LogsParams{Target: itoa(s.PID), Lines: 1})
		return err == nil && len(r.Lines) == 1 && strings.HasPrefix(r.Lines[0].Text, "subprocess finished")
	})
}

// tinyTmpfs mounts a 64 KiB tmpfs on a fresh directory, unmounted when the test ends.
func tinyTmpfs(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(shortDir(t), "state")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mounting a tmpfs (the test runs as root, as scripts/test does): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
	})
	return dir
}

// fill writes a file in dir until the filesystem is full, and returns its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling %s: %v", dir, err)
			}
			return path
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the agent's goroutines and the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
