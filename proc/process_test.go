package proc

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestOutputAndEvents(t *testing.T) {
	rec := &recorder{}
	s := newSupervisor(t, Options{Sink: rec})
	p := start(t, s, helper("printer", "print", "300", "200", "0"))
	info := waitDone(t, p)
	pid := p.pids[0]

	lines := rec.of(p.ID())
	if first := lines[0]; first.Stream != Event || first.Text != "subprocess started" {
		t.Errorf("first line = %+v, want event %q", first, "subprocess started")
	}
	if last := lines[len(lines)-1]; last.Stream != Event || last.Text != "subprocess finished status=0" {
		t.Errorf("last line = %+v, want event %q", last, "subprocess finished status=0")
	}
	for _, tt := range []struct {
		stream Stream
		prefix string
		n      int
	}{{Stdout, "out", 300}, {Stderr, "err", 200}} {
		var want []string
		for i := range tt.n {
			want = append(want, fmt.Sprintf("%s %d", tt.prefix, i))
		}
		if got := texts(lines, tt.stream); !slices.Equal(got, want) {
			t.Errorf("%v lines = %d lines %q…, want %d lines %q…", tt.stream, len(got), got[:min(3, len(got))], len(want), want[:3])
		}
	}
	for _, l := range lines {
		if l.PID != pid || l.Name != "printer" || l.ID != p.ID() {
			t.Fatalf("line %+v: want PID %d, Name printer, ID %d", l, pid, p.ID())
		}
	}
	if info.State != Exited || info.ExitCode != 0 || info.ExitDesc != "exit status 0" {
		t.Errorf("Info() = %s %d %q, want exited 0 %q", info.State, info.ExitCode, info.ExitDesc, "exit status 0")
	}
	if got := texts(info.LastLines, Event); !slices.Equal(got, []string{"subprocess finished status=0"}) {
		t.Errorf("Info().LastLines events = %q, want the finished event", got)
	}
	if len(info.LastLines) != lastLinesInInfo {
		t.Errorf("len(Info().LastLines) = %d, want %d", len(info.LastLines), lastLinesInInfo)
	}
}

func TestExitStatus(t *testing.T) {
	tests := []struct {
		script    string
		wantCode  int
		wantDesc  string
		wantEvent string
	}{
		{"exit 0", 0, "exit status 0", "subprocess finished status=0"},
		{"exit 3", 3, "exit status 3", "subprocess finished status=3"},
		{"kill -9 $$", -1, "signal: killed", "subprocess finished status=signal: killed"},
		{"kill -TERM $$", -1, "signal: terminated", "subprocess finished status=signal: terminated"},
	}
	rec := &recorder{}
	s := newSupervisor(t, Options{Sink: rec})
	for _, tt := range tests {
		p := start(t, s, Spec{Name: tt.script, Argv: []string{"/bin/sh", "-c", tt.script}})
		info := waitDone(t, p)
		if info.State != Exited || info.ExitCode != tt.wantCode || info.ExitDesc != tt.wantDesc {
			t.Errorf("sh -c %q: Info() = %s %d %q, want %s %d %q", tt.script, info.State, info.ExitCode, info.ExitDesc, Exited, tt.wantCode, tt.wantDesc)
		}
		lines := rec.of(p.ID())
		if got := lines[len(lines)-1].Text; got != tt.wantEvent {
			t.Errorf("sh -c %q: last event = %q, want %q", tt.script, got, tt.wantEvent)
		}
	}
}

func TestLongLineWithoutNewline(t *testing.T) {
	rec := &recorder{}
	s := newSupervisor(t, Options{Sink: rec})
	const n = 2*maxLineLen + 1000
	p := start(t, s, helper("long", "longline", strconv.Itoa(n)))
	waitDone(t, p)
	var lens []int
	for _, tx := range texts(rec.of(p.ID()), Stdout) {
		lens = append(lens, len(tx))
	}
	if want := []int{maxLineLen, maxLineLen, 1000}; !slices.Equal(lens, want) {
		t.Errorf("line lengths = %v, want %v", lens, want)
	}
}

func TestStop(t *testing.T) {
	tests := []struct {
		name     string
		spec     Spec
		wantDesc string
		wantKill bool // SIGKILL after the grace period
	}{
		{name: "sleep", spec: Spec{Name: "sleeper", Argv: []string{"sleep", "1000"}}, wantDesc: "signal: terminated"},
		{name: "ignores SIGTERM", spec: func() Spec {
			sp := helper("stubborn", "ignoreterm")
			sp.Ready = untilLine("ignoring SIGTERM")
			return sp
		}(), wantDesc: "signal: killed", wantKill: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			s := newSupervisor(t, Options{Sink: rec, Grace: 100 * time.Millisecond})
			p := start(t, s, tt.spec)
			if err := p.WaitReady(context.Background()); err != nil {
				t.Fatalf("WaitReady() = %v, want nil", err)
			}
			stop(t, p)
			stop(t, p) // idempotent
			info := p.Info()
			if info.State != Stopped || info.ExitDesc != tt.wantDesc {
				t.Errorf("Info() after Stop = %s %q, want %s %q", info.State, info.ExitDesc, Stopped, tt.wantDesc)
			}
			lines := rec.of(p.ID())
			if !hasEvent(lines, "stopping: SIGTERM to process group") {
				t.Errorf("no stopping event in %q", texts(lines, Event))
			}
			if got := hasEvent(lines, "still running 100ms after SIGTERM; sending SIGKILL"); got != tt.wantKill {
				t.Errorf("SIGKILL event = %v, want %v, in %q", got, tt.wantKill, texts(lines, Event))
			}
			if slices.ContainsFunc(s.List(), func(i Info) bool { return i.ID == p.ID() }) {
				t.Errorf("List() contains stopped process %d", p.ID())
			}
		})
	}
}

// TestProcessGroupKilled checks that a grandchild dies with its group, both
// when the supervisor stops the child and when the child exits by itself.
func TestProcessGroupKilled(t *testing.T) {
	tests := []struct {
		name   string
		script string // prints the grandchild's pid
		stop   bool
	}{
		{name: "stopped, TERM ignored", script: `trap "" TERM; sleep 1000 & echo $!; wait`, stop: true},
		{name: "stopped", script: `sleep 1000 & echo $!; wait`, stop: true},
		{name: "leader exits", script: `sleep 1000 & echo $!`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSupervisor(t, Options{Grace: 100 * time.Millisecond})
			p := start(t, s, Spec{Name: "group", Argv: []string{"/bin/sh", "-c", tt.script}})
			var gpid int
			eventually(t, "printing the grandchild pid", func() bool {
				for _, l := range p.Lines(0) {
					if l.Stream == Stdout {
						gpid, _ = strconv.Atoi(strings.TrimSpace(l.Text))
					}
				}
				return gpid > 0
			})
			if tt.stop {
				stop(t, p)
			} else {
				waitDone(t, p)
			}
			eventually(t, fmt.Sprintf("grandchild %d gone", gpid), func() bool { return gone(gpid) })
		})
	}
}

// TestEscapedDescendant checks that a descendant that left the process group
// and holds the output open does not keep the process from finishing.
func TestEscapedDescendant(t *testing.T) {
	var mu sync.Mutex
	var diags []string
	s := newSupervisor(t, Options{Logf: func(format string, args ...any) {
		mu.Lock()
		diags = append(diags, fmt.Sprintf(format, args...))
		mu.Unlock()
	}})
	// The leader waits for the escape: killing its group any earlier could
	// catch the descendant before setsid.
	f := t.TempDir() + "/pid"
	script := `setsid /bin/sh -c 'echo $$ >"$1"; exec sleep 1000' sh "$1" & while [ ! -s "$1" ]; do sleep 0.01; done; cat "$1"`
	p := start(t, s, Spec{Name: "escaper", Argv: []string{"/bin/sh", "-c", script, "sh", f}})
	var escaped int
	eventually(t, "printing the escaped pid", func() bool {
		for _, l := range p.Lines(0) {
			if l.Stream == Stdout {
				escaped, _ = strconv.Atoi(l.Text)
			}
		}
		return escaped > 0
	})
	t.Cleanup(func() { syscall.Kill(escaped, syscall.SIGKILL) })
	if info := waitDone(t, p); info.State != Exited {
		t.Errorf("Info().State = %s, want %s", info.State, Exited)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.ContainsFunc(diags, func(d string) bool { return strings.Contains(d, "output still open") }) {
		t.Errorf("Logf got %q, want a note that output was still open", diags)
	}
}

// TestStopBecause: an owner's stop with a reason ends Stopped, keeps the process listed with
// its reason, and a later Stop dismisses it.
func TestStopBecause(t *testing.T) {
	rec := &recorder{}
	s := newSupervisor(t, Options{Sink: rec})
	p := start(t, s, helper("sleeper", "sleep", "60"))
	p.StopBecause("idle for too long")
	info := waitDone(t, p)
	if info.State != Stopped || info.Reason != "idle for too long" || !info.Listed {
		t.Errorf("Info() = %s %q listed=%v, want stopped, the reason, listed", info.State, info.Reason, info.Listed)
	}
	if !hasEvent(rec.of(p.ID()), "stopped: idle for too long") {
		t.Errorf("no 'stopped: idle for too long' event in %q", texts(rec.of(p.ID()), Event))
	}
	if n := len(s.List()); n != 1 {
		t.Errorf("List() has %d processes, want the stopped one kept", n)
	}
	stop(t, p)
	if n := len(s.List()); n != 0 || p.Info().Listed {
		t.Errorf("after Stop, List() has %d processes; want it dismissed", n)
	}
}
