package proc

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fast restarts for tests.
const testBackoff = time.Millisecond

func TestCrashLoopFails(t *testing.T) {
	rec := &recorder{}
	s := newSupervisor(t, Options{Sink: rec})
	sp := helper("crasher", "crash")
	sp.Restart = RestartPolicy{MaxFailures: 3, MinBackoff: testBackoff, MaxBackoff: 4 * testBackoff, Jitter: 0.2}
	p := start(t, s, sp)
	info := waitDone(t, p)

	if info.State != Failed || info.Attempt != 3 || info.Restarts != 2 || info.Reason != "exit status 1" || info.ExitCode != 1 {
		t.Errorf("Info() = %s attempt %d restarts %d reason %q exit %d, want %s attempt 3 restarts 2 reason %q exit 1",
			info.State, info.Attempt, info.Restarts, info.Reason, info.ExitCode, Failed, "exit status 1")
	}
	last := texts(info.LastLines, Event)
	if len(last) == 0 || last[len(last)-1] != "giving up after 3 consecutive failures: exit status 1" {
		t.Errorf("Info().LastLines events = %q, want them to end with giving up", last)
	}
	if !slices.Contains(texts(info.LastLines, Stderr), "crashing") {
		t.Errorf("Info().LastLines = %q, want the child's %q", texts(info.LastLines, Stderr), "crashing")
	}
	lines := rec.of(p.ID())
	for _, tt := range []struct {
		prefix string
		want   int
	}{
		{"subprocess started", 3},
		{"subprocess finished status=1", 3},
		{"restarting in ", 2},
		{"giving up", 1},
	} {
		if got := countEvents(lines, tt.prefix); got != tt.want {
			t.Errorf("events %q: %d, want %d, in %q", tt.prefix, got, tt.want, texts(lines, Event))
		}
	}
	if ev := texts(lines, Event); len(ev) < 3 || !strings.Contains(ev[2], "(failure 1 of 3): exit status 1") {
		t.Errorf("events = %q, want the third to say %q", texts(lines, Event), "(failure 1 of 3): exit status 1")
	}
	// Failed processes stay listed until stopped.
	if !slices.ContainsFunc(s.List(), func(i Info) bool { return i.ID == p.ID() }) {
		t.Errorf("List() does not contain failed process %d", p.ID())
	}
	stop(t, p)
	if slices.ContainsFunc(s.List(), func(i Info) bool { return i.ID == p.ID() }) {
		t.Errorf("List() contains failed process %d after Stop", p.ID())
	}
	if got := p.Info().State; got != Failed {
		t.Errorf("Info().State after Stop of a failed process = %s, want %s", got, Failed)
	}
}

// TestAlwaysRestarts runs a child that exits 0 at once under Always: every
// exit counts as a failure, unless the run lasted StableAfter.
func TestAlwaysRestarts(t *testing.T) {
	tests := []struct {
		name        string
		stableAfter time.Duration
		wantFailed  bool
	}{
		{name: "gives up", wantFailed: true},
		// Every run lasts at least 1ns, so every run resets the count.
		{name: "stable runs reset the count", stableAfter: time.Nanosecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSupervisor(t, Options{})
			p := start(t, s, Spec{Name: "quitter", Argv: []string{"true"}, Restart: RestartPolicy{
				Always: true, MaxFailures: 3, MinBackoff: testBackoff, MaxBackoff: testBackoff, StableAfter: tt.stableAfter,
			}})
			if tt.wantFailed {
				info := waitDone(t, p)
				if info.State != Failed || info.Attempt != 3 || info.Reason != "exit status 0" {
					t.Errorf("Info() = %s attempt %d reason %q, want %s attempt 3 reason %q", info.State, info.Attempt, info.Reason, Failed, "exit status 0")
				}
				return
			}
			eventually(t, "restarted 10 times", func() bool { return p.Info().Restarts >= 10 })
			info := p.Info()
			if info.State.Terminal() || info.Attempt > 1 {
				t.Errorf("Info() = %s attempt %d, want live with attempt <= 1", info.State, info.Attempt)
			}
			stop(t, p)
			if got := p.Info().State; got != Stopped {
				t.Errorf("Info().State = %s, want %s", got, Stopped)
			}
		})
	}
}

func TestStopDuringBackoff(t *testing.T) {
	s := newSupervisor(t, Options{})
	sp := helper("crasher", "crash")
	sp.Restart = RestartPolicy{MaxFailures: -1, MinBackoff: time.Hour}
	p := start(t, s, sp)
	eventually(t, "in backoff", func() bool {
		i := p.Info()
		return i.State == Restarting && !i.NextRestart.IsZero()
	})
	if i := p.Info(); i.Attempt != 1 || i.Reason != "exit status 1" || i.PID != 0 {
		t.Errorf("Info() in backoff = attempt %d reason %q pid %d, want attempt 1 reason %q pid 0", i.Attempt, i.Reason, i.PID, "exit status 1")
	}
	stop(t, p) // would time out if the backoff held it
	if i := p.Info(); i.State != Stopped || !i.NextRestart.IsZero() {
		t.Errorf("Info() = %s next %v, want %s and no next restart", i.State, i.NextRestart, Stopped)
	}
}

func TestKick(t *testing.T) {
	rec := &recorder{}
	s := newSupervisor(t, Options{Sink: rec, Grace: 100 * time.Millisecond})
	p := start(t, s, Spec{Name: "sleeper", Argv: []string{"sleep", "1000"}, Restart: RestartPolicy{Always: true, MinBackoff: time.Hour}})
	old := p.Info().PID
	p.Kick("pod moved")
	eventually(t, "restarted", func() bool {
		i := p.Info()
		return i.PID != 0 && i.PID != old && i.State == Running
	})
	if i := p.Info(); i.Restarts != 1 || i.Attempt != 0 {
		t.Errorf("Info() after Kick = restarts %d attempt %d, want restarts 1 attempt 0", i.Restarts, i.Attempt)
	}
	lines := rec.of(p.ID())
	for _, ev := range []string{"kicked: pod moved", "restarting now (kicked: pod moved)"} {
		if !hasEvent(lines, ev) {
			t.Errorf("no event %q in %q", ev, texts(lines, Event))
		}
	}
	if got := s.Lookup(itoa(old)); len(got) != 1 || got[0] != p {
		t.Errorf("Lookup(%d) (former pid) = %v, want [%d]", old, got, p.ID())
	}
}

func TestKickCutsBackoff(t *testing.T) {
	s := newSupervisor(t, Options{})
	sp := helper("crasher", "crash")
	sp.Restart = RestartPolicy{MaxFailures: -1, MinBackoff: time.Hour}
	p := start(t, s, sp)
	eventually(t, "in backoff", func() bool { return !p.Info().NextRestart.IsZero() })
	p.Kick("try now")
	eventually(t, "restarted", func() bool { return p.Info().Restarts >= 1 })
	stop(t, p)
}

func TestKickRunOnce(t *testing.T) {
	s := newSupervisor(t, Options{})
	p := start(t, s, Spec{Name: "sleeper", Argv: []string{"sleep", "1000"}})
	p.Kick("enough")
	if i := waitDone(t, p); i.State != Exited || i.Reason != "" {
		t.Errorf("Info() = %s reason %q, want %s", i.State, i.Reason, Exited)
	}
}

// TestRetryNow cuts a backoff short but leaves a running child alone.
func TestRetryNow(t *testing.T) {
	s := newSupervisor(t, Options{})
	sp := helper("crasher", "crash")
	sp.Restart = RestartPolicy{MaxFailures: -1, MinBackoff: time.Hour}
	p := start(t, s, sp)
	eventually(t, "in backoff", func() bool { return !p.Info().NextRestart.IsZero() })
	p.RetryNow("the network changed")
	eventually(t, "restarted", func() bool { return p.Info().Restarts >= 1 })
	stop(t, p)

	up := start(t, s, Spec{Name: "sleeper", Argv: []string{"sleep", "1000"}, Restart: RestartPolicy{Always: true}})
	pid := up.Info().PID
	up.RetryNow("the network changed")
	time.Sleep(100 * time.Millisecond)
	if i := up.Info(); i.PID != pid || i.Restarts != 0 || i.State != Running {
		t.Errorf("RetryNow on a running process: pid %d→%d, %d restarts, %s; want it untouched", pid, i.PID, i.Restarts, i.State)
	}
}

// TestCheckNow runs the health check at once, and a failing one restarts the child.
func TestCheckNow(t *testing.T) {
	s := newSupervisor(t, Options{})
	var checks atomic.Int32
	p := start(t, s, Spec{
		Name: "sleeper", Argv: []string{"sleep", "1000"}, Restart: RestartPolicy{Always: true, MinBackoff: time.Millisecond},
		HealthInterval: time.Hour,
		Health: func(context.Context, *Process) error {
			if checks.Add(1) == 1 {
				return errors.New("the database went away")
			}
			return nil
		},
	})
	eventually(t, "running", func() bool { return p.Info().State == Running })
	since := p.Info().Since
	p.CheckNow()
	eventually(t, "restarted after the failed check", func() bool { i := p.Info(); return i.Restarts == 1 && i.State == Running })
	if !p.Info().Since.After(since) {
		t.Errorf("Info().Since did not move with the state")
	}
	p.CheckNow()
	eventually(t, "a second check", func() bool { return checks.Load() == 2 })
	if i := p.Info(); i.Restarts != 1 {
		t.Errorf("a passing check restarted the child: %d restarts", i.Restarts)
	}
}
