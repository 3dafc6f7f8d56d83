package cli_test

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestKillByAgentPID is agent -k's fallback when nothing answers on the socket: it reads the
// command line of $RHIZOME_AGENT_PID from the kernel (/proc on Linux, kern.procargs2 on macOS),
// kills it only if it is a rhizome agent, and refuses any other process.
func TestKillByAgentPID(t *testing.T) {
	u := newUserEnv(t)
	agent := agentPID(t, u.must("agent", "-s"))
	// The agent no longer answers where clients look, but it runs.
	if err := os.Remove(u.socket); err != nil {
		t.Fatal(err)
	}

	other := exec.Command("sleep", "600")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Process.Kill(); other.Wait() })
	pidOf := func(pid int) *userEnv {
		return &userEnv{t: t, socket: u.socket, vars: append(u.vars[:len(u.vars):len(u.vars)], "RHIZOME_AGENT_PID="+strconv.Itoa(pid))}
	}
	if _, err := pidOf(other.Process.Pid).run("agent", "-k"); err == nil || !strings.Contains(err.Error(), "is not a rhizome agent: not killing it") {
		t.Errorf("agent -k with RHIZOME_AGENT_PID of a sleep = %v, want a refusal", err)
	}
	if gone(other.Process.Pid) {
		t.Fatalf("agent -k killed the sleep %d it should have refused", other.Process.Pid)
	}

	out := pidOf(agent).must("agent", "-k")
	if !strings.Contains(out, "unset RHIZOME_AGENT_PID") {
		t.Errorf("agent -k printed %q, want the unset lines", out)
	}
	if !gone(agent) {
		t.Errorf("agent %d still running after agent -k by its pid", agent)
	}
}
