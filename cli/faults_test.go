package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// userEnv is one user's environment for the real binary: private XDG directories under a
// short path, so each test gets its own agent socket.
type userEnv struct {
	t      *testing.T
	vars   []string
	socket string
}

func newUserEnv(t *testing.T, extra ...string) *userEnv {
	t.Helper()
	short, err := os.MkdirTemp("", "rz")
	if err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(short, "run")
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	u := &userEnv{t: t, socket: filepath.Join(run, "rhizome", "agent.sock"), vars: append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + short,
		"SHELL=/bin/sh",
		"XDG_RUNTIME_DIR=" + run,
		"XDG_STATE_HOME=" + filepath.Join(short, "state"),
		"XDG_CONFIG_HOME=" + filepath.Join(short, "config"),
	}, extra...)}
	t.Cleanup(func() {
		_, _ = u.run("agent", "-k") // no agent outlives its test
		os.RemoveAll(short)
	})
	return u
}

func (u *userEnv) command(args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(binDir, "rhizome"), args...)
	cmd.Env = u.vars
	return cmd
}

// runTimeout bounds one rhizome command in these tests: a hang fails the test, not the run.
const runTimeout = time.Minute

// run runs rhizome with args and returns its stdout; an error carries stderr.
func (u *userEnv) run(args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "rhizome"), args...)
	cmd.Env = u.vars
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("still running after %v: %w", runTimeout, err)
	}
	if err != nil {
		return stdout.String(), &cmdError{args, err, stderr.String()}
	}
	return stdout.String(), nil
}

type cmdError struct {
	args   []string
	err    error
	stderr string
}

func (e *cmdError) Error() string {
	return "rhizome " + strings.Join(e.args, " ") + ": " + e.err.Error() + ": " + e.stderr
}

// must runs rhizome with args and fails the test if it fails.
func (u *userEnv) must(args ...string) string {
	u.t.Helper()
	out, err := u.run(args...)
	if err != nil {
		u.t.Fatal(err)
	}
	return out
}

var agentPIDRE = regexp.MustCompile(`(?m)^RHIZOME_AGENT_PID=(\d+); export RHIZOME_AGENT_PID;$`)

// agentPID parses the pid out of `rhizome agent -s`'s output.
func agentPID(t *testing.T, out string) int {
	t.Helper()
	m := agentPIDRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("rhizome agent printed %q, want RHIZOME_AGENT_PID=…", out)
	}
	pid, _ := strconv.Atoi(m[1])
	return pid
}

// TestKill9LeavesNoChild kills the real agent with SIGKILL while it runs several children:
// every child must die with it, and the next `rhizome agent` must take over the socket and
// the lock the dead one left behind. Children die by Pdeathsig, and again by the watchdog
// (forced with RHIZOME_WATCHDOG), which is what macOS relies on.
func TestKill9LeavesNoChild(t *testing.T) {
	for _, tt := range []struct{ name, env string }{
		{"pdeathsig", "RHIZOME_WATCHDOG=false"},
		{"watchdog", "RHIZOME_WATCHDOG=true"},
	} {
		t.Run(tt.name, func(t *testing.T) { testKill9LeavesNoChild(t, tt.env) })
	}
}

func testKill9LeavesNoChild(t *testing.T, watchdogEnv string) {
	const sleepers = 4
	u := newUserEnv(t, "SLEEP_OVERRIDE=600", watchdogEnv)
	agent := agentPID(t, u.must("agent", "-s"))
	var children []int
	for range sleepers {
		pid, err := strconv.Atoi(strings.TrimSpace(u.must("sleeper")))
		if err != nil {
			t.Fatalf("rhizome sleeper printed no pid: %v", err)
		}
		children = append(children, pid)
	}
	t.Cleanup(func() {
		for _, pid := range children {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	for _, pid := range children {
		if ppid := parentOf(pid); ppid != agent {
			t.Fatalf("sleeper %d has parent %d, want the agent %d", pid, ppid, agent)
		}
	}
	var watchers []int
	if watchdogEnv == "RHIZOME_WATCHDOG=true" {
		for _, pid := range children {
			w := watcherOf(pid, 10*time.Second)
			if w == 0 {
				t.Fatalf("sleeper %d has no watchdog watcher in its process group", pid)
			}
			watchers = append(watchers, w)
		}
	} else if w := watcherOf(children[0], 0); w != 0 {
		t.Fatalf("sleeper %d has watcher %d, want Pdeathsig alone", children[0], w)
	}

	if err := syscall.Kill(agent, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the agent, its children and their watchers gone", func() bool {
		for _, pid := range slices.Concat([]int{agent}, children, watchers) {
			if !gone(pid) {
				return false
			}
		}
		return true
	})

	// What the dead agent left: its socket, and its pid in the lock file.
	if fi, err := os.Lstat(u.socket); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("after kill -9, %s: %v; want the stale socket left behind", u.socket, err)
	}
	if b, _ := os.ReadFile(u.socket + ".lock"); strings.TrimSpace(string(b)) != strconv.Itoa(agent) {
		t.Errorf("lock file holds %q, want the dead agent's pid %d", b, agent)
	}
	if _, err := u.run("ps"); err == nil || !strings.Contains(err.Error(), "no agent answering") {
		t.Errorf("rhizome ps with a stale socket = %v, want no agent answering", err)
	}

	next := agentPID(t, u.must("agent", "-s"))
	if next == agent || gone(next) {
		t.Fatalf("the next agent is pid %d (the dead one was %d), want a new live one", next, agent)
	}
	if out := u.must("ps", "--json"); !strings.Contains(out, `"count": 0`) {
		t.Errorf("rhizome ps --json on the new agent = %s, want no processes", out)
	}
	if b, _ := os.ReadFile(u.socket + ".lock"); strings.TrimSpace(string(b)) != strconv.Itoa(next) {
		t.Errorf("lock file holds %q, want the new agent's pid %d", b, next)
	}
}

// TestConcurrentAgentStarts runs ten `rhizome agent` at once with no agent running: all must
// print the same agent, and exactly one agent process must exist.
func TestConcurrentAgentStarts(t *testing.T) {
	const starts = 10
	u := newUserEnv(t)
	outs := make([]string, starts)
	errs := make([]error, starts)
	var wg sync.WaitGroup
	begin := make(chan struct{})
	for i := range starts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-begin
			outs[i], errs[i] = u.run("agent", "-s")
		}()
	}
	close(begin)
	wg.Wait()
	pids := map[int]bool{}
	for i := range starts {
		if errs[i] != nil {
			t.Fatalf("start %d: %v", i, errs[i])
		}
		pids[agentPID(t, outs[i])] = true
	}
	if len(pids) != 1 {
		t.Fatalf("ten concurrent starts printed agents %v, want one", pids)
	}
	running := agentProcesses(t, u.socket)
	for pid := range pids {
		if len(running) != 1 || running[0] != pid {
			t.Errorf("agent processes on %s: %v, want just %d", u.socket, running, pid)
		}
	}
}

// agentProcesses returns the pids of live rhizome agents serving socket.
func agentProcesses(t *testing.T, socket string) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || gone(pid) {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if len(args) > 1 && filepath.Base(args[0]) == "rhizome" && args[1] == "agent" && strings.Contains(string(b), "\x00"+socket) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// watcherOf returns the pid of the watchdog watcher (rhizome _watchdog watch) in the process
// group led by pid, waiting up to wait for it to start; 0 if there is none.
func watcherOf(pid int, wait time.Duration) int {
	for deadline := time.Now().Add(wait); ; time.Sleep(10 * time.Millisecond) {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			w, err := strconv.Atoi(e.Name())
			if err != nil || w == pid || gone(w) {
				continue
			}
			b, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
			stat, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
			fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])) // state ppid pgrp …
			if len(fields) > 2 && fields[2] == strconv.Itoa(pid) && strings.HasSuffix(string(b), "\x00_watchdog\x00watch\x00") {
				return w
			}
		}
		if time.Now().After(deadline) {
			return 0
		}
	}
}

// parentOf returns pid's parent pid, 0 if it cannot be read.
func parentOf(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(fields[1])
	return ppid
}

// gone reports whether pid has exited: no such process, or a zombie nobody reaped yet.
func gone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}

// eventually polls cond for up to 20 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// TestKill9DuringForwardLeavesNoKubectl kills the real agent while a forward waits for its
// context's kubectl proxy (one that never answers): that kubectl must die with the agent.
func TestKill9DuringForwardLeavesNoKubectl(t *testing.T) {
	dir, err := os.MkdirTemp("", "rzkube")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	pidFile := filepath.Join(dir, "exec.pid")
	kubectl := filepath.Join(dir, "kubectl")
	// kubectl proxy ($2, after --context=C) records its pid and becomes a long sleep;
	// everything else says nothing.
	script := "#!/bin/sh\ncase \"$2\" in proxy) echo $$ > " + pidFile + ".tmp; mv " + pidFile + ".tmp " + pidFile + "; exec sleep 600 ;; esac\n"
	if err := os.WriteFile(kubectl, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	u := newUserEnv(t, "RHIZOME_KUBECTL="+kubectl)
	agent := agentPID(t, u.must("agent", "-s"))
	forward := u.command("forward", "na-prod", "bookkeeper")
	if err := forward.Start(); err != nil {
		t.Fatal(err)
	}
	defer forward.Wait()
	defer forward.Process.Kill()

	var execPID int
	eventually(t, "kubectl proxy to run", func() bool {
		b, err := os.ReadFile(pidFile)
		execPID, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && execPID > 0
	})
	t.Cleanup(func() { _ = syscall.Kill(execPID, syscall.SIGKILL) })
	if ppid := parentOf(execPID); ppid != agent {
		t.Fatalf("kubectl proxy %d has parent %d, want the agent %d", execPID, ppid, agent)
	}
	if err := syscall.Kill(agent, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "kubectl proxy gone with the agent", func() bool { return gone(execPID) })
}

// TestDeadStartLockHolder leaves the start lock to a process killed while holding it, as a
// `rhizome agent` killed mid-start would: the next `rhizome agent` must not wait for it.
func TestDeadStartLockHolder(t *testing.T) {
	u := newUserEnv(t)
	if err := os.MkdirAll(filepath.Dir(u.socket), 0o700); err != nil {
		t.Fatal(err)
	}
	lockPath := u.socket + ".start"
	holder := exec.Command("flock", "--no-fork", lockPath, "sleep", "600")
	if err := holder.Start(); err != nil {
		t.Fatalf("flock (util-linux; see scripts/deps): %v", err)
	}
	defer holder.Wait()
	defer holder.Process.Kill()
	// Held once another taker fails at once.
	eventually(t, "the start lock held", func() bool {
		return exec.Command("flock", "--nonblock", lockPath, "true").Run() != nil
	})
	if err := holder.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	pid := agentPID(t, u.must("agent", "-s"))
	if gone(pid) {
		t.Errorf("agent %d is not running", pid)
	}
}
