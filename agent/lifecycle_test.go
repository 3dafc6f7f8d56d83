package agent

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/rpc"
)

// TestShutdownGraceful: Shutdown stops the children with TERM, tells subscribers and watchers
// why their feeds end before it closes their connections, and removes the socket.
func TestShutdownGraceful(t *testing.T) {
	a := startAgent(t)
	c := dialAgent(t, a)
	ctx := t.Context()
	lines, err := c.Subscribe(ctx, rpc.SubscribeParams{Target: "sleeper"})
	if err != nil {
		t.Fatal(err)
	}
	watch, err := c.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	started, err := c.Sleeper(ctx, rpc.SleeperParams{Interval: 30})
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := a.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown() = %v, want nil", err)
	}
	if processAlive(started.PID) {
		t.Errorf("sleeper %d alive after Shutdown", started.PID)
	}
	if _, err := os.Stat(a.Socket()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket after Shutdown: %v, want it removed", err)
	}
	var texts []string
	for batch := range lines.C() {
		for _, l := range batch {
			texts = append(texts, l.Text)
		}
	}
	if !strings.Contains(strings.Join(texts, "\n"), "stopping: SIGTERM to process group") {
		t.Errorf("subscriber got %q, want the TERM of a graceful stop", texts)
	}
	if err := lines.Err(); err == nil || err.Error() != "the agent is shutting down" {
		t.Errorf("subscription Err() = %v, want the agent's reason: the agent is shutting down", err)
	}
	var states []string
	for batch := range watch.C() {
		for _, ch := range batch {
			states = append(states, ch.State)
		}
	}
	if got := strings.Join(states, " "); got != "starting running stopped" {
		t.Errorf("watcher saw %q, want starting running stopped", got)
	}
}

// TestShutdownBoundedByContext: a child that ignores TERM would hold a graceful shutdown for
// the whole grace period; when ctx ends first, Shutdown kills it and returns ctx's error.
func TestShutdownBoundedByContext(t *testing.T) {
	t.Setenv(ignoreTermEnv, "1")
	a := startAgent(t) // Grace 2 s
	started, err := a.Sleeper(t.Context(), rpc.SleeperParams{Interval: 30})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the sleeper's first line", func() bool {
		r, err := a.Logs(t.Context(), rpc.LogsParams{Target: "sleeper"})
		return err == nil && len(r.Lines) >= 2 // "subprocess started", "0": TERM is ignored now
	})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := a.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown(ended ctx) = %v, want context.Canceled", err)
	}
	if processAlive(started.PID) {
		t.Errorf("sleeper %d alive after Shutdown gave up: Close must have killed it", started.PID)
	}
}

// TestCloseWhileSubscribing closes the agent while clients keep connecting, subscribing,
// watching and calling: Close must neither panic (a WaitGroup Add after Wait) nor leave a
// goroutine behind (goleak, in TestMain), and every call either succeeds or fails cleanly.
func TestCloseWhileSubscribing(t *testing.T) {
	a := startAgent(t)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				c, err := rpc.Dial(ctx, a.Socket())
				if err == nil {
					_, _ = c.Subscribe(ctx, rpc.SubscribeParams{})
					_, _ = c.Watch(ctx)
					_, _ = c.Ps(ctx)
					c.Close()
				}
				cancel()
			}
		}()
	}
	time.Sleep(50 * time.Millisecond) // let the clients get going: not a wait for anything
	if err := a.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	close(stop)
	wg.Wait()
}
