package agent

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/rpc"
)

// startAgentWith is startAgent with the config changed by mod before Start.
func startAgentWith(t testing.TB, mod func(*Config)) *Agent {
	t.Helper()
	dir := shortDir(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Socket:     filepath.Join(dir, "agent.sock"),
		LogFile:    filepath.Join(dir, "agent.log"),
		Executable: exe,
		Grace:      2 * time.Second,
		Version:    "test",
	}
	mod(&cfg)
	a, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start() = %v", err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// countFDs returns how many file descriptors this process has open.
func countFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("counting fds: %v", err)
	}
	return len(ents)
}

// baseline is a count of fds and goroutines to come back to after a load.
type baseline struct{ fds, goroutines int }

func takeBaseline(t testing.TB) baseline {
	return baseline{countFDs(t), runtime.NumGoroutine()}
}

// waitBack waits until fds and goroutines are back to b, failing the test with both counts if
// they are not within the deadline.
func (b baseline) waitBack(t *testing.T, after string) {
	t.Helper()
	var fds, gs int
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		fds, gs = countFDs(t), runtime.NumGoroutine()
		if fds <= b.fds && gs <= b.goroutines {
			return
		}
	}
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	fdList := ""
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		for _, e := range ents {
			target, _ := os.Readlink("/proc/self/fd/" + e.Name())
			fdList += e.Name() + " -> " + target + "\n"
		}
	}
	t.Errorf("after %s: %d fds and %d goroutines, want back to %d and %d; fds:\n%s\ngoroutines:\n%s", after, fds, gs, b.fds, b.goroutines, fdList, buf)
}

// agentLog returns the agent's logfile as written so far.
func agentLog(t testing.TB, a *Agent) string {
	t.Helper()
	b, err := os.ReadFile(a.cfg.LogFile)
	if err != nil {
		t.Fatalf("reading the agent's log: %v", err)
	}
	return string(b)
}

// gone reports whether pid has exited: no such process, or a zombie nobody reaped yet.
func gone(pid int) bool {
	b, err := os.ReadFile("/proc/" + itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// pid (comm) STATE …; comm may hold spaces and parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}

// umask sets the process's umask and returns the old one.
func umask(mask int) int { return syscall.Umask(mask) }

// freePort returns a local TCP port nothing listens on right now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// rpcLogsAll asks for the last lines of every process.
var rpcLogsAll = rpc.LogsParams{Lines: 20}

// dialQuiet is dialAgent for goroutines other than the test's: it returns the error.
func dialQuiet(socket string) (*rpc.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return rpc.Dial(ctx, socket)
}
