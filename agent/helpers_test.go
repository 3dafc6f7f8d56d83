package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/rpc"
)

// shortDir returns a fresh private directory with a short path: socket paths must stay under
// 104 bytes, which t.TempDir() can exceed.
func shortDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "rz")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// startAgent runs an agent in this process on a fresh socket; it is closed when the test ends.
// Each of settings changes the Config before the agent starts.
func startAgent(t testing.TB, settings ...func(*Config)) *Agent {
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
	for _, set := range settings {
		set(&cfg)
	}
	a, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start() = %v", err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// withKubectl is a startAgent setting: the agent runs path as kubectl.
func withKubectl(path string) func(*Config) {
	return func(cfg *Config) { cfg.Kubectl = path }
}

func dialAgent(t *testing.T, a *Agent) *rpc.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := rpc.Dial(ctx, a.Socket())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rawConn speaks raw lines to the agent, as socat would.
type rawConn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, socket string) *rawConn {
	t.Helper()
	c, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c, r: bufio.NewReaderSize(c, 1<<16)}
}

func (rc *rawConn) send(line string) {
	rc.t.Helper()
	if _, err := rc.c.Write([]byte(line + "\n")); err != nil {
		rc.t.Fatal(err)
	}
}

// response is a JSON-RPC response as it came over the wire.
type response struct {
	ID     json.RawMessage `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int64  `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Method string `json:"method"` // set when the line is a notification
}

func (rc *rawConn) read() response {
	rc.t.Helper()
	_ = rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := rc.r.ReadBytes('\n')
	if err != nil {
		rc.t.Fatalf("reading a reply: %v", err)
	}
	var r response
	if err := json.Unmarshal(line, &r); err != nil {
		rc.t.Fatalf("reply %q is not JSON: %v", line, err)
	}
	return r
}
