package proc

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// helperEnv, set in a child's environment, makes the test binary act as the
// helper process named by its first argument instead of running tests.
const helperEnv = "PROC_TEST_HELPER"

// watchdogArg as the first argument makes the test binary the watchdog command (see
// testWatchdog), as `rhizome _watchdog` is in the real binary.
const watchdogArg = "watchdog"

// testWatchdog is Options.Watchdog for supervisors in tests: this binary.
func testWatchdog() []string { return []string{os.Args[0], watchdogArg} }

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == watchdogArg {
		if err := RunWatchdog(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(127)
		}
		os.Exit(0)
	}
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperProcess(os.Args[1:]))
	}
	goleak.VerifyTestMain(m)
}

// helperProcess is the TestHelperProcess pattern, dispatched from TestMain so
// that the testing package prints nothing of its own.
func helperProcess(args []string) int {
	switch args[0] {
	case "print": // print OUT ERR CODE: OUT lines "out i", ERR lines "err i", then exit CODE
		nOut, _ := strconv.Atoi(args[1])
		nErr, _ := strconv.Atoi(args[2])
		code, _ := strconv.Atoi(args[3])
		for i := 0; i < max(nOut, nErr); i++ {
			if i < nOut {
				fmt.Fprintf(os.Stdout, "out %d\n", i)
			}
			if i < nErr {
				fmt.Fprintf(os.Stderr, "err %d\n", i)
			}
		}
		return code
	case "ignoreterm": // ignore SIGTERM, say so, wait to be killed
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ignoring SIGTERM")
		time.Sleep(time.Hour)
	case "longline": // longline N: N bytes of 'x' and no newline
		n, _ := strconv.Atoi(args[1])
		os.Stdout.WriteString(strings.Repeat("x", n))
	case "crash": // a crash loop's child
		fmt.Fprintln(os.Stderr, "crashing")
		return 1
	case "agent": // agent [watchdog]: a mini agent: supervise `sleep 1000`, print its pid, wait to be killed
		var opts Options
		if len(args) > 1 && args[1] == watchdogArg {
			opts.Watchdog = testWatchdog()
		}
		s := New(opts)
		p, err := s.Start(context.Background(), Spec{Name: "sleeper", Argv: []string{"sleep", "1000"}})
		if err != nil {
			fmt.Println(err)
			return 1
		}
		fmt.Println(p.Info().PID)
		time.Sleep(time.Hour)
	default:
		fmt.Fprintf(os.Stderr, "unknown helper %q\n", args[0])
		return 2
	}
	return 0
}

// helper returns a Spec that runs helperProcess(args).
func helper(name string, args ...string) Spec {
	return Spec{
		Name: name,
		Kind: "helper",
		Argv: append([]string{os.Args[0]}, args...),
		// Under -race, a process exiting 0 otherwise sleeps 1s for late reports.
		Env: []string{helperEnv + "=1", "GORACE=atexit_sleep_ms=0"},
	}
}

// watchdogSuiteEnv, set, runs every test's supervisor with the watchdog, so that the whole
// suite checks that children behave the same through it (the macOS path, forced on Linux).
const watchdogSuiteEnv = "PROC_TEST_WATCHDOG"

// newSupervisor returns a Supervisor shut down at the end of the test.
func newSupervisor(t testing.TB, opts Options) *Supervisor {
	t.Helper()
	if os.Getenv(watchdogSuiteEnv) != "" && opts.Watchdog == nil {
		opts.Watchdog = testWatchdog()
	}
	s := New(opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown() = %v, want nil", err)
		}
	})
	return s
}

// start starts spec or fails the test.
func start(t testing.TB, s *Supervisor, spec Spec) *Process {
	t.Helper()
	p, err := s.Start(context.Background(), spec)
	if err != nil {
		t.Fatalf("Start(%q) = %v, want nil", spec.Name, err)
	}
	return p
}

// testTimeout bounds every wait in the tests. It is a deadman, not an
// assertion about speed.
const testTimeout = 20 * time.Second

// waitDone waits for p to be terminal.
func waitDone(t testing.TB, p *Process) Info {
	t.Helper()
	select {
	case <-p.Done():
	case <-time.After(testTimeout):
		t.Fatalf("process %q not done after %v: %+v", p.spec.Name, testTimeout, p.Info())
	}
	return p.Info()
}

// eventually polls cond until it holds.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s after %v", what, testTimeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stop stops p or fails the test.
func stop(t testing.TB, p *Process) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := p.Stop(ctx); err != nil {
		t.Fatalf("Stop(%q) = %v, want nil", p.spec.Name, err)
	}
}

// recorder is a Sink that keeps every line.
type recorder struct {
	mu    sync.Mutex
	lines []Line
}

func (r *recorder) WriteLines(lines []Line) {
	r.mu.Lock()
	r.lines = append(r.lines, lines...)
	r.mu.Unlock()
}

// of returns the lines of process id, in order.
func (r *recorder) of(id int64) []Line {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Line
	for _, l := range r.lines {
		if l.ID == id {
			out = append(out, l)
		}
	}
	return out
}

// texts returns the texts of the lines of stream st.
func texts(lines []Line, st Stream) []string {
	var out []string
	for _, l := range lines {
		if l.Stream == st {
			out = append(out, l.Text)
		}
	}
	return out
}

// hasEvent reports whether an Event line's text starts with prefix.
func hasEvent(lines []Line, prefix string) bool {
	for _, l := range lines {
		if l.Stream == Event && strings.HasPrefix(l.Text, prefix) {
			return true
		}
	}
	return false
}

// countEvents counts Event lines whose text starts with prefix.
func countEvents(lines []Line, prefix string) int {
	n := 0
	for _, l := range lines {
		if l.Stream == Event && strings.HasPrefix(l.Text, prefix) {
			n++
		}
	}
	return n
}

// gone reports whether pid has exited: no such process, or a zombie whose
// parent (here often an init that does not reap) has not reaped it.
func gone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// The state follows the parenthesized command, which may contain spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}

// untilLine returns a Ready hook that waits for an output line equal to text.
func untilLine(text string) func(ctx context.Context, p *Process) error {
	return func(ctx context.Context, p *Process) error {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			for _, l := range p.Lines(0) {
				if l.Stream != Event && l.Text == text && l.PID == p.Info().PID {
					return nil
				}
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
			}
		}
	}
}
