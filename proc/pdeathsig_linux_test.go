package proc

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestChildDiesWithAgent runs a mini agent (this test binary) that starts
// `sleep 1000`, kills the agent with SIGKILL, and checks that the sleep goes
// too (Pdeathsig).
func TestChildDiesWithAgent(t *testing.T) {
	agent := exec.Command(os.Args[0], "agent")
	agent.Env = append(os.Environ(), helperEnv+"=1")
	out, err := agent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := agent.Start(); err != nil {
		t.Fatalf("starting the mini agent: %v", err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		agent.Process.Kill()
		agent.Wait()
		t.Fatalf("mini agent printed %q, %v; want a pid", line, err)
	}
	if gone(pid) {
		t.Fatalf("child %d gone before the agent was killed", pid)
	}
	agent.Process.Kill()
	agent.Wait()
	eventually(t, "child "+itoa(pid)+" gone", func() bool { return gone(pid) })
}
