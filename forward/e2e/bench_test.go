package e2e_test

import (
	"bufio"
	"os/exec"
	"strings"
	"testing"
)

// BenchmarkReady compares, on the same cluster, the time until `rhizome forward` prints a
// handle through which MySQL has greeted with the time until a bare `kubectl port-forward`
// prints its banner (which proves nothing about the database). The pod's proxy is already
// running, as it is for every forward but a pod's first.
//
//	go test -run '^$' -bench Ready -benchtime 20x ./forward/e2e/
func BenchmarkReady(b *testing.B) {
	b.Run("rhizome-forward", func(b *testing.B) {
		u := newUser(b, 33376)
		u.rhizome("agent")
		for b.Loop() {
			if out, stderr, err := u.rhizome("forward", "na-prod", "bookkeeper"); err != nil {
				b.Fatalf("forward = %q, %v: %s", out, err, stderr)
			}
			b.StopTimer()
			u.rhizome("stop", "na-prod/bookkeeper")
			b.StartTimer()
		}
	})
	b.Run("kubectl-port-forward-banner", func(b *testing.B) {
		for b.Loop() {
			cmd := exec.Command("kubectl", "--context", cluster.Context, "-n", cluster.Namespace,
				"port-forward", "--address", "127.0.0.1", "deploy/"+cluster.Deployment, "33386:3307")
			cmd.Env = append(cmd.Environ(), cluster.Env()...)
			out, err := cmd.StdoutPipe()
			if err != nil {
				b.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			line, err := bufio.NewReader(out).ReadString('\n')
			if err != nil || !strings.HasPrefix(line, "Forwarding from") {
				b.Fatalf("kubectl printed %q, %v", line, err)
			}
			b.StopTimer()
			cmd.Process.Kill()
			cmd.Wait()
			b.StartTimer()
		}
	})
}
