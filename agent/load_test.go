package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/rpc"
)

// TestManyClients has 200 clients connected at once make 100 calls each: none may fail, and
// the agent's file descriptors and goroutines must come back to where they were.
func TestManyClients(t *testing.T) {
	const clients, calls = 200, 100
	t.Setenv("SLEEP_OVERRIDE", "600")
	a := startAgent(t)
	ctx := t.Context()
	for range 3 { // something for ps and logs to show
		if _, err := a.Sleeper(ctx, rpc.SleeperParams{}); err != nil {
			t.Fatal(err)
		}
	}
	base := takeBaseline(t)
	peak := watchPeak()

	start := time.Now()
	var ready, done sync.WaitGroup
	begin := make(chan struct{})
	var failures atomic.Int64
	for i := range clients {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			c, err := dialQuiet(a.Socket())
			ready.Done()
			if err != nil {
				failures.Add(1)
				t.Errorf("client %d: %v", i, err)
				return
			}
			defer c.Close()
			<-begin // all connected at once
			for n := range calls {
				var err error
				switch n % 4 {
				case 0:
					_, err = c.Version(ctx)
				case 1:
					var ps rpc.PsResult
					if ps, err = c.Ps(ctx); err == nil && ps.Count != 3 {
						t.Errorf("client %d: Ps() = %d processes, want 3", i, ps.Count)
					}
				case 2:
					_, err = c.Logs(ctx, rpc.LogsParams{Target: "sleeper", Lines: 5})
				case 3:
					_, err = c.Stop(ctx, rpc.StopParams{Target: "no-such-process"})
					if errors.Is(err, rpc.ErrNotFound) {
						err = nil
					}
				}
				if err != nil {
					failures.Add(1)
					t.Errorf("client %d, call %d: %v", i, n, err)
					return
				}
			}
		}()
	}
	ready.Wait()
	close(begin)
	done.Wait()
	elapsed := time.Since(start)
	fds, gs := peak()
	t.Logf("%d clients × %d calls in %v; peak %d fds (baseline %d), %d goroutines (baseline %d)",
		clients, calls, elapsed.Round(time.Millisecond), fds, base.fds, gs, base.goroutines)
	if failures.Load() > 0 {
		t.Fatalf("%d clients failed", failures.Load())
	}
	if fds < base.fds+clients {
		t.Errorf("peak fds %d, want at least %d: the clients were not connected at once", fds, base.fds+clients)
	}
	base.waitBack(t, "200 clients")
}

// TestManyChildren supervises 500 children at once, started over the socket by ten clients
// in parallel: all run, ps lists them, one stop ends them all, and nothing stays behind.
func TestManyChildren(t *testing.T) {
	const children, starters = 500, 10
	a := startAgentWith(t, func(c *Config) { c.Executable = shellSleeper(t) })
	ctx := t.Context()
	base := takeBaseline(t)
	var mu sync.Mutex
	var pids []int
	var wg sync.WaitGroup
	for s := range starters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dialQuiet(a.Socket())
			if err != nil {
				t.Errorf("starter %d: %v", s, err)
				return
			}
			defer c.Close()
			for range children / starters {
				st, err := c.Sleeper(ctx, rpc.SleeperParams{})
				if err != nil {
					t.Errorf("starter %d: Sleeper() = %v", s, err)
					return
				}
				mu.Lock()
				pids = append(pids, st.PID)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	c := dialAgent(t, a)
	ps, err := c.Ps(ctx)
	if err != nil || ps.Count != children {
		t.Fatalf("Ps() = %d processes, %v; want %d", ps.Count, err, children)
	}
	alive, rss := 0, 0
	for _, pid := range pids {
		if !gone(pid) {
			alive++
		}
		rss += rssAnonKiB(pid)
	}
	if alive != children {
		t.Errorf("%d of %d children alive", alive, children)
	}
	waitFor(t, "every child's first line", func() bool {
		r, err := c.Logs(ctx, rpc.LogsParams{Target: "sleeper", Lines: 2 * children})
		n := 0
		for _, l := range r.Lines {
			if l.Text == "0" {
				n++
			}
		}
		return err == nil && n == children
	})
	t.Logf("%d children: %d fds and %d goroutines in the agent (baseline %d, %d), children's anonymous RSS %d MiB",
		children, countFDs(t), runtime.NumGoroutine(), base.fds, base.goroutines, rss>>10)

	stopped, err := c.Stop(ctx, rpc.StopParams{Target: "sleeper"})
	if err != nil || len(stopped.Stopped) != children {
		t.Fatalf("Stop(sleeper) = %d stopped, %v; want %d", len(stopped.Stopped), err, children)
	}
	for _, pid := range pids {
		if !gone(pid) {
			t.Errorf("child %d alive after Stop", pid)
		}
	}
	if ps, err := c.Ps(ctx); err != nil || ps.Count != 0 {
		t.Errorf("Ps() after Stop = %d processes, %v", ps.Count, err)
	}
	c.Close()
	base.waitBack(t, "500 children")
}

// TestStartStopCycles starts and stops a sleeper 1,000 times over the socket, one connection
// per cycle: nothing may fail, and fds and goroutines must come back to where they were.
func TestStartStopCycles(t *testing.T) {
	const cycles = 1000
	a := startAgentWith(t, func(c *Config) { c.Executable = shellSleeper(t) })
	ctx := t.Context()
	cycle := func(i int) {
		c, err := dialQuiet(a.Socket())
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		defer c.Close()
		s, err := c.Sleeper(ctx, rpc.SleeperParams{})
		if err != nil {
			t.Fatalf("cycle %d: Sleeper() = %v", i, err)
		}
		r, err := c.Stop(ctx, rpc.StopParams{Target: strconv.Itoa(s.PID)})
		if err != nil || len(r.Stopped) != 1 || r.Stopped[0].State != "stopped" {
			t.Fatalf("cycle %d: Stop(%d) = %+v, %v", i, s.PID, r, err)
		}
		if !gone(s.PID) {
			t.Fatalf("cycle %d: child %d alive after Stop", i, s.PID)
		}
	}
	for i := range 20 { // warm up: runtime threads, timers, pools
		cycle(i)
	}
	base := takeBaseline(t)
	start := time.Now()
	for i := range cycles {
		cycle(i)
	}
	t.Logf("%d start/stop cycles over the socket in %v", cycles, time.Since(start).Round(time.Millisecond))
	c := dialAgent(t, a)
	if ps, err := c.Ps(ctx); err != nil || ps.Count != 0 {
		t.Errorf("Ps() after the cycles = %d processes, %v", ps.Count, err)
	}
	c.Close()
	base.waitBack(t, "1,000 cycles")
}

// shellSleeper writes a stand-in for the agent's executable whose sleeper prints 0 and then
// sleeps: a few hundred KiB of memory where this test binary would take tens of MiB, so that
// hundreds can run at once.
func shellSleeper(t *testing.T) string {
	t.Helper()
	path := filepath.Join(shortDir(t), "rhizome")
	if err := os.WriteFile(path, []byte("#!/bin/sh\necho 0\nexec sleep 600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// watchPeak samples this process's fds and goroutines until the returned function is called,
// which returns the highest counts seen.
func watchPeak() func() (fds, goroutines int) {
	ctx, cancel := context.WithCancel(context.Background())
	var maxFDs, maxGs int
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
				maxFDs = max(maxFDs, len(ents))
			}
			maxGs = max(maxGs, runtime.NumGoroutine())
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() (int, int) {
		cancel()
		<-done
		return maxFDs, maxGs
	}
}

// rssAnonKiB returns the anonymous memory of pid in KiB, 0 if it cannot be read.
func rssAnonKiB(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "RssAnon:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}
