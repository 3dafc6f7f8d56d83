package proc

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests force the watchdog on Linux, where Pdeathsig would otherwise do its job, so that
// the mechanism macOS relies on is exercised here: with Options.Watchdog set, children get no
// Pdeathsig.

// TestWatchdogChildDiesWithAgent runs a mini agent (this test binary, its supervisor using the
// watchdog) that starts `sleep 1000`, kills the agent with SIGKILL, and checks that the sleep
// and its watcher go too.
func TestWatchdogChildDiesWithAgent(t *testing.T) {
	agent, pid := startMiniAgent(t, watchdogArg)
	watchers := watchersOf(t, pid)
	if len(watchers) != 1 {
		t.Fatalf("group %d has watchers %v, want one", pid, watchers)
	}
	if err := agent.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	agent.Wait()
	eventually(t, "child "+itoa(pid)+" and its watcher gone", func() bool { return gone(pid) && gone(watchers[0]) })
}

// TestWatchdogIsWhatKills is the control: with the watcher killed first, the child survives the
// agent's SIGKILL, so it is the watcher, not a Pdeathsig, that kills it in the test above.
func TestWatchdogIsWhatKills(t *testing.T) {
	agent, pid := startMiniAgent(t, watchdogArg)
	t.Cleanup(func() { _ = syscall.Kill(-pid, syscall.SIGKILL) })
	watchers := watchersOf(t, pid)
	if len(watchers) != 1 {
		t.Fatalf("group %d has watchers %v, want one", pid, watchers)
	}
	_ = syscall.Kill(watchers[0], syscall.SIGKILL)
	eventually(t, "watcher gone", func() bool { return gone(watchers[0]) })
	agent.Process.Kill()
	agent.Wait()
	// The agent is reaped, so its children are orphans now: a Pdeathsig would have fired.
	time.Sleep(200 * time.Millisecond) // a grace for a signal in flight; not a timing assertion
	if gone(pid) {
		t.Fatalf("child %d died with the agent although its watcher was gone: something else kills it", pid)
	}
}

// TestWatchdogSupervises runs children through the watchdog in this process: output, exit
// status, pid and argv are the child's own; a missing binary fails Start as without the
// watchdog; SIGTERM reaches the child, not the watcher, and the SIGKILL after the grace period
// ends both; Shutdown leaves no watcher behind.
func TestWatchdogSupervises(t *testing.T) {
	rec := &recorder{}
	s := newSupervisor(t, Options{Sink: rec, Watchdog: testWatchdog(), Grace: 200 * time.Millisecond})

	p := start(t, s, helper("printer", "print", "3", "2", "7"))
	info := waitDone(t, p)
	lines := rec.of(p.ID())
	if got := texts(lines, Stdout); !slices.Equal(got, []string{"out 0", "out 1", "out 2"}) {
		t.Errorf("stdout through the watchdog = %q, want out 0 to out 2", got)
	}
	if got := texts(lines, Stderr); !slices.Equal(got, []string{"err 0", "err 1"}) {
		t.Errorf("stderr through the watchdog = %q, want err 0 and err 1", got)
	}
	if info.ExitCode != 7 || !slices.Equal(info.Argv, p.spec.Argv) {
		t.Errorf("Info() = exit %d argv %q, want exit 7 argv %q", info.ExitCode, info.Argv, p.spec.Argv)
	}

	_, err := s.Start(context.Background(), Spec{Name: "missing", Argv: []string{"/nonexistent/program"}})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Start(missing binary) = %v, want an error wrapping fs.ErrNotExist", err)
	}
	_, err = s.Start(context.Background(), Spec{Name: "missing", Argv: []string{"no-such-program-on-path"}})
	if !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("Start(program not on PATH) = %v, want an error wrapping exec.ErrNotFound", err)
	}

	stubborn := start(t, s, helper("stubborn", "ignoreterm"))
	eventually(t, "stubborn ignoring SIGTERM", func() bool { return slices.Contains(texts(rec.of(stubborn.ID()), Stdout), "ignoring SIGTERM") })
	pid := stubborn.Info().PID
	if args := cmdline(pid); !slices.Equal(args, stubborn.spec.Argv) {
		t.Errorf("pid %d runs %q, want the child's own argv %q: the watchdog must become the child", pid, args, stubborn.spec.Argv)
	}
	watchers := watchersOf(t, pid)
	if len(watchers) != 1 {
		t.Fatalf("group %d has watchers %v, want one", pid, watchers)
	}
	stop(t, stubborn)
	if !hasEvent(rec.of(stubborn.ID()), "still running") {
		t.Errorf("stubborn child stopped without the SIGKILL after the grace period: %q", texts(rec.of(stubborn.ID()), Event))
	}
	eventually(t, "the watcher gone with its group", func() bool { return gone(watchers[0]) })

	sleeper := start(t, s, Spec{Name: "sleeper", Argv: []string{"sleep", "1000"}})
	watchers = watchersOf(t, sleeper.Info().PID)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown() = %v", err)
	}
	eventually(t, "no watcher left after Shutdown", func() bool {
		return !slices.ContainsFunc(watchers, func(w int) bool { return !gone(w) })
	})
}

// startMiniAgent runs the "agent" helper with args and returns it and its child's pid. The
// agent is killed when the test ends.
func startMiniAgent(t *testing.T, args ...string) (*exec.Cmd, int) {
	t.Helper()
	agent := exec.Command(os.Args[0], append([]string{"agent"}, args...)...)
	agent.Env = append(os.Environ(), helperEnv+"=1")
	out, err := agent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := agent.Start(); err != nil {
		t.Fatalf("starting the mini agent: %v", err)
	}
	t.Cleanup(func() {
		agent.Process.Kill()
		agent.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		t.Fatalf("mini agent printed %q, %v; want a pid", line, err)
	}
	if gone(pid) {
		t.Fatalf("child %d gone before the agent was killed", pid)
	}
	return agent, pid
}

// watchersOf returns the watchdog watchers in process group pgid, waiting until there is one:
// the child may run before its watcher's runtime has started.
func watchersOf(t *testing.T, pgid int) []int {
	t.Helper()
	var found []int
	eventually(t, "a watcher in group "+itoa(pgid), func() bool {
		found = nil
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || gone(pid) || pgidOf(pid) != pgid {
				continue
			}
			if args := cmdline(pid); len(args) > 0 && args[len(args)-1] == watchdogWatch {
				found = append(found, pid)
			}
		}
		return len(found) > 0
	})
	return found
}

// pgidOf returns pid's process group, -1 if it cannot be read.
func pgidOf(pid int) int {
	b, err := os.ReadFile("/proc/" + itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // state ppid pgrp …
	if len(fields) < 3 {
		return -1
	}
	n, _ := strconv.Atoi(fields[2])
	return n
}

func cmdline(pid int) []string {
	b, err := os.ReadFile("/proc/" + itoa(pid) + "/cmdline")
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}
