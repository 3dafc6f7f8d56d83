package proc

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func ids(ps []*Process) []int64 {
	out := []int64{}
	for _, p := range ps {
		out = append(out, p.ID())
	}
	return out
}

func TestLookup(t *testing.T) {
	s := newSupervisor(t, Options{})
	a1 := start(t, s, Spec{Name: "a", Argv: []string{"sleep", "1000"}})
	b := start(t, s, Spec{Name: "b", Argv: []string{"sleep", "1000"}})
	a2 := start(t, s, Spec{Name: "a", Argv: []string{"sleep", "1000"}})
	done := start(t, s, Spec{Name: "done", Argv: []string{"true"}})
	donePID := done.Info().PID
	waitDone(t, done)

	tests := []struct {
		query string
		want  []int64
	}{
		{"a", []int64{a1.ID(), a2.ID()}},
		{"b", []int64{b.ID()}},
		{itoa(b.Info().PID), []int64{b.ID()}},
		{"done", []int64{done.ID()}},
		{itoa(donePID), []int64{done.ID()}}, // former pid of a finished process
		{itoa(int(b.ID())), []int64{}},      // IDs are not pids
		{"nosuch", []int64{}},
		{"0", []int64{}},
		{"-1", []int64{}},
	}
	for _, tt := range tests {
		if got := ids(s.Lookup(tt.query)); !slices.Equal(got, tt.want) {
			t.Errorf("Lookup(%q) = %v, want %v", tt.query, got, tt.want)
		}
	}
}

func TestListAndGet(t *testing.T) {
	s := newSupervisor(t, Options{})
	a := start(t, s, Spec{Name: "a", Kind: "sleeper", Argv: []string{"sleep", "1000"}})
	done := start(t, s, Spec{Name: "done", Argv: []string{"true"}})
	waitDone(t, done)
	b := start(t, s, Spec{Name: "b", Kind: "sleeper", Argv: []string{"sleep", "1000"}})

	var got []int64
	for _, i := range s.List() {
		got = append(got, i.ID)
	}
	if want := []int64{a.ID(), b.ID()}; !slices.Equal(got, want) {
		t.Errorf("List() IDs = %v, want %v", got, want)
	}
	for _, p := range []*Process{a, b, done} {
		if q, ok := s.Get(p.ID()); !ok || q != p {
			t.Errorf("Get(%d) = %v, %v; want the process", p.ID(), q, ok)
		}
	}
	if _, ok := s.Get(999); ok {
		t.Errorf("Get(999) found a process, want none")
	}
	if i := a.Info(); i.Name != "a" || i.Kind != "sleeper" || !slices.Equal(i.Argv, []string{"sleep", "1000"}) || i.PID == 0 || i.Started.IsZero() || !i.Ended.IsZero() {
		t.Errorf("Info() = %+v, want name a, kind sleeper, argv, a pid, started, not ended", i)
	}
}

func TestRetain(t *testing.T) {
	s := newSupervisor(t, Options{Retain: time.Millisecond})
	p := start(t, s, Spec{Name: "brief", Argv: []string{"sh", "-c", "echo bye"}})
	waitDone(t, p)
	eventually(t, "forgotten", func() bool {
		_, ok := s.Get(p.ID())
		return !ok && len(s.Lookup("brief")) == 0 && len(s.Logs(nil, 0)) == 0
	})
	// The caller's *Process still works.
	if got := texts(p.Lines(0), Stdout); !slices.Equal(got, []string{"bye"}) {
		t.Errorf("Lines(0) = %q, want [bye]", got)
	}
}

func TestLogs(t *testing.T) {
	s := newSupervisor(t, Options{})
	a := start(t, s, Spec{Name: "a", Argv: []string{"sh", "-c", "echo a1; echo a2"}})
	waitDone(t, a)
	b := start(t, s, Spec{Name: "b", Argv: []string{"sh", "-c", "echo b1"}})
	waitDone(t, b)

	out := func(lines []Line) []string { return texts(lines, Stdout) }
	tests := []struct {
		name   string
		filter func(Info) bool
		n      int
		want   []string
	}{
		{name: "all", want: []string{"a1", "a2", "b1"}},
		{name: "by name", filter: func(i Info) bool { return i.Name == "a" }, want: []string{"a1", "a2"}},
		{name: "last 3 lines", n: 3, want: []string{"b1"}}, // b's started, b1, finished
	}
	for _, tt := range tests {
		if got := out(s.Logs(tt.filter, tt.n)); !slices.Equal(got, tt.want) {
			t.Errorf("Logs(%s, %d) = %q, want %q", tt.name, tt.n, got, tt.want)
		}
	}
	all := s.Logs(nil, 0)
	if !slices.IsSortedFunc(all, func(x, y Line) int { return x.Time.Compare(y.Time) }) {
		t.Errorf("Logs(nil, 0) not in time order")
	}
}

func TestMaxProcesses(t *testing.T) {
	s := newSupervisor(t, Options{MaxProcesses: 2})
	a := start(t, s, Spec{Name: "a", Argv: []string{"sleep", "1000"}})
	start(t, s, Spec{Name: "b", Argv: []string{"sleep", "1000"}})
	if _, err := s.Start(context.Background(), Spec{Name: "c", Argv: []string{"sleep", "1000"}}); !errors.Is(err, ErrTooMany) {
		t.Fatalf("Start(%q) = %v, want %v", "c", err, ErrTooMany)
	}
	stop(t, a)
	start(t, s, Spec{Name: "c", Argv: []string{"sleep", "1000"}})
}

func TestStartErrors(t *testing.T) {
	tests := []struct {
		name    string
		spec    Spec
		wantIs  error
		wantMsg string
	}{
		{name: "missing binary", spec: Spec{Name: "x", Argv: []string{"rhizome-no-such-binary"}},
			wantIs: exec.ErrNotFound, wantMsg: `starting x: exec: "rhizome-no-such-binary": executable file not found in $PATH`},
		{name: "missing path", spec: Spec{Name: "x", Argv: []string{"/nonexistent/rhizome-nope"}},
			wantIs: fs.ErrNotExist, wantMsg: "starting x: fork/exec /nonexistent/rhizome-nope: no such file or directory"},
		{name: "missing dir", spec: Spec{Name: "x", Argv: []string{"true"}, Dir: "/nonexistent"},
			wantIs: fs.ErrNotExist, wantMsg: "starting x: chdir /nonexistent: no such file or directory"},
		{name: "no name", spec: Spec{Argv: []string{"true"}}, wantIs: ErrBadSpec, wantMsg: "proc: invalid spec: empty Name"},
		{name: "no argv", spec: Spec{Name: "x"}, wantIs: ErrBadSpec, wantMsg: "proc: invalid spec: x: empty Argv and no Prepare or Run"},
	}
	s := newSupervisor(t, Options{})
	for _, tt := range tests {
		p, err := s.Start(context.Background(), tt.spec)
		if p != nil || !errors.Is(err, tt.wantIs) || err.Error() != tt.wantMsg {
			t.Errorf("%s: Start() = %v, %v; want nil, %q (is %v)", tt.name, p, err, tt.wantMsg, tt.wantIs)
		}
	}
	if got := s.List(); len(got) != 0 {
		t.Errorf("List() after failed starts = %v, want none", got)
	}
}

func TestShutdown(t *testing.T) {
	defer goleak.VerifyNone(t)
	s := New(Options{Grace: 100 * time.Millisecond})
	sub := s.Subscribe(nil, 0)
	go func() {
		for range sub.C() {
		}
	}()
	stubborn := helper("stubborn", "ignoreterm")
	stubborn.Ready = untilLine("ignoring SIGTERM")
	crasher := helper("crasher", "crash")
	crasher.Restart = RestartPolicy{MaxFailures: -1, MinBackoff: time.Hour}
	var ps []*Process
	for _, sp := range []Spec{
		{Name: "sleeper", Argv: []string{"sleep", "1000"}},
		stubborn,
		crasher,
		{Name: "preparing", Prepare: func(ctx context.Context, p *Process) ([]string, error) { <-ctx.Done(); return nil, ctx.Err() }},
	} {
		ps = append(ps, start(t, s, sp))
	}
	if err := ps[1].WaitReady(context.Background()); err != nil {
		t.Fatalf("WaitReady(%q) = %v, want nil", "stubborn", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown() = %v, want nil", err)
	}
	for _, p := range ps {
		if got := p.Info().State; got != Stopped {
			t.Errorf("%s: Info().State = %s, want %s", p.Info().Name, got, Stopped)
		}
	}
	if _, err := s.Start(context.Background(), Spec{Name: "late", Argv: []string{"true"}}); !errors.Is(err, ErrShutdown) {
		t.Errorf("Start() after Shutdown = %v, want %v", err, ErrShutdown)
	}
	if err := sub.Err(); !errors.Is(err, ErrShutdown) {
		t.Errorf("Subscription.Err() = %v, want %v", err, ErrShutdown)
	}
	if sub2 := s.Subscribe(nil, 0); sub2.Err() != ErrShutdown {
		t.Errorf("Subscribe() after Shutdown: Err() = %v, want %v", sub2.Err(), ErrShutdown)
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown() = %v, want nil", err)
	}
}

// TestCycles starts and stops many processes and checks that nothing stays
// behind: processes, goroutines, file descriptors, memory.
func TestCycles(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 500
	}
	s := newSupervisor(t, Options{Retain: time.Nanosecond})
	cycle := func() {
		p := start(t, s, Spec{Name: "cycle", Argv: []string{"sleep", "1000"}})
		stop(t, p)
	}
	for range 20 { // warm up: lazily created runtime threads, timers, pools
		cycle()
	}
	fds0, gs0, heap0 := countFDs(t), runtime.NumGoroutine(), heapInUse()
	for range n {
		cycle()
	}
	s.mu.Lock()
	procs, ended := len(s.procs), len(s.ended)
	s.mu.Unlock()
	if procs > 1 || ended > 1 {
		t.Errorf("after %d cycles: %d processes, %d ended kept, want <= 1", n, procs, ended)
	}
	eventually(t, "goroutines back", func() bool { return runtime.NumGoroutine() <= gs0 })
	if fds := countFDs(t); fds > fds0 {
		t.Errorf("after %d cycles: %d fds, want <= %d", n, fds, fds0)
	}
	// Generous: a leak of one ring or Process per cycle would be megabytes.
	if heap := heapInUse(); heap > heap0+4<<20 {
		t.Errorf("after %d cycles: heap in use %d, want <= %d + 4 MiB", n, heap, heap0)
	}
}

func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count fds: %v", err)
	}
	return len(ents)
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestShutdownOutOfTime checks that a Shutdown whose ctx ends kills what is
// left at once and that everything still ends.
func TestShutdownOutOfTime(t *testing.T) {
	defer goleak.VerifyNone(t)
	s := New(Options{Grace: time.Hour})
	sp := helper("stubborn", "ignoreterm")
	sp.Ready = untilLine("ignoring SIGTERM")
	p := start(t, s, sp)
	if err := p.WaitReady(context.Background()); err != nil {
		t.Fatalf("WaitReady() = %v, want nil", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown(cancelled) = %v, want %v", err, context.Canceled)
	}
	info := waitDone(t, p)
	if info.State != Stopped || info.ExitDesc != "signal: killed" {
		t.Errorf("Info() = %s %q, want %s %q", info.State, info.ExitDesc, Stopped, "signal: killed")
	}
	select {
	case <-s.shutdownDone:
	case <-time.After(testTimeout):
		t.Fatalf("Shutdown did not finish after %v", testTimeout)
	}
}
