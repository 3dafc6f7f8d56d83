package agent

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/rpc"
)

// TestPsDoesNotWaitForAForwardEndingItself: a forward stops itself (idle-timeout) and its
// process takes its whole grace to end; a client asks for the same forward again, which must
// wait for the old one to be gone, and meanwhile ps, from another client, still answers at
// once: the manager's lock is not held while the new ask waits.
func TestPsDoesNotWaitForAForwardEndingItself(t *testing.T) {
	t.Setenv(simIgnoreTermEnv, "1")
	a := startAgent(t, func(c *Config) { c.Grace = time.Minute })
	ctx := t.Context()
	asker := dialAgent(t, a)
	params := rpc.ForwardParams{KubeContext: "c", KubeNamespace: "n", KubeDeployment: "d", SQLConnection: "p:r:i",
		Simulate: true, IdleTimeout: rpc.Duration(2 * time.Second)}
	_, err := asker.Forward(ctx, params)
	if err != nil {
		t.Fatalf("Forward() = %v", err)
	}
	ps, err := asker.Ps(ctx)
	if err != nil || len(ps.Running) != 1 || ps.Running[0].PID <= 0 {
		t.Fatalf("Ps() = %+v, %v; want the forward with its pid", ps, err)
	}
	pid := ps.Running[0].PID
	// Ending itself, the forward closes its door first, then stops its process, which takes
	// the grace (a minute) to end.
	waitUntil(t, "the forward ending itself by its idle-timeout", func() bool {
		return strings.Contains(agentLog(t, a), "stopping: SIGTERM to process group")
	})
	if gone(pid) {
		t.Fatalf("the simulated forward %d ended at once: it should ignore SIGTERM", pid)
	}

	again := make(chan error, 1)
	go func() {
		_, err := asker.Forward(ctx, params)
		again <- err
	}()
	other := dialAgent(t, a)
	for range 10 {
		psCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := other.Ps(psCtx)
		cancel()
		if err != nil {
			t.Fatalf("Ps() while a forward ends itself = %v", err)
		}
		if gone(pid) {
			t.Fatalf("Ps() answered only after the ending forward's process %d was gone (it waited for it)", pid)
		}
		time.Sleep(20 * time.Millisecond) // let the second ask reach the manager
	}
	_ = syscall.Kill(pid, syscall.SIGKILL) // end it now rather than after the grace
	if err := <-again; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Forward() after the old one ended = %v, want a new forward", err)
	}
}

// waitUntil polls cond for up to 30 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
