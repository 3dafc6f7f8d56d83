package agent

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestNetworkWatchSeesAddressChanges watches a network namespace of the test's own while a
// real address is added to and removed from its loopback interface (needs root and ip(8)).
func TestNetworkWatchSeesAddressChanges(t *testing.T) {
	ns := fmt.Sprintf("rztest-%d", os.Getpid())
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s (this test needs root and iproute2)", args, err, out)
		}
	}
	ip("netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "delete", ns).Run() })

	ev, err := openNetEventsIn(t, "/run/netns/"+ns)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.close()
	ctx := t.Context()
	if ev.next(ctx, 200*time.Millisecond) {
		t.Fatalf("a change before any was made")
	}
	ip("-n", ns, "link", "set", "lo", "up")
	ip("-n", ns, "addr", "add", "127.0.0.2/8", "dev", "lo")
	if !ev.next(ctx, 10*time.Second) {
		t.Fatalf("no event for an address added")
	}
	for ev.next(ctx, 300*time.Millisecond) { // the rest of that burst
	}
	ip("-n", ns, "addr", "del", "127.0.0.2/8", "dev", "lo")
	if !ev.next(ctx, 10*time.Second) {
		t.Fatalf("no event for an address removed")
	}

	// The watcher turns such a burst into one call.
	calls := make(chan struct{}, 10)
	done := make(chan error)
	wctx, cancel := context.WithCancel(ctx)
	go func() { done <- watchNetworkWith(wctx, ev, func() { calls <- struct{}{} }) }()
	ip("-n", ns, "addr", "add", "127.0.0.3/8", "dev", "lo")
	ip("-n", ns, "addr", "del", "127.0.0.3/8", "dev", "lo")
	select {
	case <-calls:
	case <-time.After(10 * time.Second):
		t.Fatal("watchNetwork did not call for the change")
	}
	time.Sleep(2 * netDebounce)
	if n := len(calls); n != 0 {
		t.Errorf("one burst of changes gave %d more calls, want one in all", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("watchNetwork = %v", err)
	}
}

// openNetEventsIn opens the watcher's socket inside the network namespace at path: a socket
// stays in the namespace it was made in, whatever its thread does next.
func openNetEventsIn(t *testing.T, path string) (netEvents, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return nil, err
	}
	defer self.Close()
	target, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return nil, fmt.Errorf("entering %s: %w", path, err)
	}
	ev, openErr := openNetEvents()
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		t.Fatalf("leaving %s: %v", path, err) // the thread stays locked, and dies with the test
	}
	return ev, openErr
}
