package agent

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// otherUID is the uid the peer-credential test connects as: nobody.
const otherUID = "65534"

// TestPeerCredentialsRefuseOtherUID opens the agent's socket to everyone (directory 0711,
// socket 0666) and connects as another uid for real, with setpriv: the kernel lets the
// connection through, and the agent must refuse it by its SO_PEERCRED uid, say why on the
// wire, log the refusal and go on serving its own user.
func TestPeerCredentialsRefuseOtherUID(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatalf("this test switches to uid %s with setpriv and must run as root (scripts/test does)", otherUID)
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatalf("setpriv (util-linux) is missing: run scripts/deps: %v", err)
	}
	a := startAgent(t)

	// The test binary lives in a private build directory: copy it where nobody can run it.
	binDir, err := os.MkdirTemp("", "rzpeer")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(binDir) })
	exe := filepath.Join(binDir, "agent.test")
	copyFile(t, mustExecutable(t), exe, 0o755)
	for path, mode := range map[string]os.FileMode{binDir: 0o755, filepath.Dir(a.Socket()): 0o711, a.Socket(): 0o666} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}

	dial := func(asOther bool) []response {
		t.Helper()
		var cmd *exec.Cmd
		if asOther {
			cmd = exec.Command(setpriv, "--reuid="+otherUID, "--regid="+otherUID, "--clear-groups", exe, a.Socket())
		} else {
			cmd = exec.Command(exe, a.Socket())
			cmd.Env = append(cmd.Env, "HELPER_ONE_LINE=1")
		}
		cmd.Env = append(cmd.Env, helperEnv+"=dial", "GORACE=atexit_sleep_ms=0")
		cmd.Dir = binDir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("dial helper (as uid %s: %v) = %v, output:\n%s", map[bool]string{true: otherUID, false: "0"}[asOther], asOther, err, out)
		}
		var rs []response
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if line == "EOF" {
				rs = append(rs, response{Method: "EOF"})
				continue
			}
			var r response
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("dial helper printed %q, not a JSON-RPC line", line)
			}
			rs = append(rs, r)
		}
		return rs
	}

	// The helper itself works: as our own uid, it gets the version.
	if rs := dial(false); len(rs) != 1 || rs[0].Error != nil || !strings.Contains(string(rs[0].Result), `"protocol":1`) {
		t.Fatalf("version through the dial helper as uid 0 = %+v, want a version result", rs)
	}

	// As nobody: connected (the modes allow it), refused with a reason, then closed.
	rs := dial(true)
	if len(rs) != 2 || rs[0].Error == nil || rs[1].Method != "EOF" {
		t.Fatalf("as uid %s the agent sent %+v, want one error and then EOF", otherUID, rs)
	}
	if e := rs[0].Error; e.Code != -32013 || !strings.Contains(e.Message, "refuses connections from uid "+otherUID) {
		t.Errorf("refusal = %d %q, want -32013 naming uid %s", e.Code, e.Message, otherUID)
	}
	if log := agentLog(t, a); !strings.Contains(log, "refused connection from another user") || !strings.Contains(log, "peer_uid="+otherUID) {
		t.Errorf("agent log does not record the refusal of uid %s:\n%s", otherUID, log)
	}
	if ps, err := dialAgent(t, a).Ps(t.Context()); err != nil || ps.Count != 0 {
		t.Errorf("Ps() as our own uid after the refusal = %+v, %v", ps, err)
	}
}

func mustExecutable(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
