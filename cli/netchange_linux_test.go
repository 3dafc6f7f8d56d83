package cli_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAgentRetriesOnANetworkChange starts the real agent inside a network namespace of the
// test's own and changes an address there, as a VPN coming up does: the agent notices and
// retries its forwards at once (needs root and iproute2, as CI has).
func TestAgentRetriesOnANetworkChange(t *testing.T) {
	ns := fmt.Sprintf("rzcli-%d", os.Getpid())
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	ip("netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "delete", ns).Run() })
	ip("-n", ns, "link", "set", "lo", "up")

	u := newUserEnv(t)
	start := exec.Command("ip", append([]string{"netns", "exec", ns, filepath.Join(binDir, "rhizome")}, "agent")...)
	start.Env = u.vars
	if out, err := start.CombinedOutput(); err != nil {
		t.Fatalf("rhizome agent in %s: %v: %s", ns, err, out)
	}
	var logfile string
	for _, v := range u.vars {
		if state, ok := strings.CutPrefix(v, "XDG_STATE_HOME="); ok {
			logfile = filepath.Join(state, "rhizome", "agent.log")
		}
	}
	const retried = "the network changed: retrying reconnecting forwards and checking ready ones now"
	read := func() string { b, _ := os.ReadFile(logfile); return string(b) }
	eventually(t, "the agent's start in its log", func() bool { return strings.Contains(read(), "agent started") })
	if strings.Contains(read(), retried) {
		t.Fatalf("the agent retried before any change:\n%s", read())
	}
	ip("-n", ns, "addr", "add", "127.0.0.2/8", "dev", "lo")
	eventually(t, "the agent to notice the new address", func() bool { return strings.Contains(read(), retried) })
}
