package proc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// changesOf receives from w until a change of p reaches a terminal state, and returns p's
// changes as "state(reason)[exit]" words.
func changesOf(t *testing.T, w *StateWatch, p *Process) []string {
	t.Helper()
	var got []string
	for {
		select {
		case ch, ok := <-w.C():
			if !ok {
				t.Fatalf("watch closed (%v) after %q", w.Err(), got)
			}
			if ch.ID != p.ID() {
				continue
			}
			if ch.Name != p.spec.Name || ch.Kind != p.spec.Kind || ch.Time.IsZero() {
				t.Errorf("change %+v does not name %q of kind %q with a time", ch, p.spec.Name, p.spec.Kind)
			}
			got = append(got, fmt.Sprintf("%s(%s)[%s]", ch.State, ch.Reason, ch.Exit))
			if ch.State.Terminal() {
				return got
			}
		case <-time.After(testTimeout):
			t.Fatalf("no state change after %q", got)
		}
	}
}

func TestWatchStates(t *testing.T) {
	t.Run("crash loop", func(t *testing.T) {
		s := newSupervisor(t, Options{Grace: 50 * time.Millisecond})
		w := s.WatchStates(0)
		defer w.Close()
		sp := helper("crasher", "crash")
		sp.Restart = RestartPolicy{MaxFailures: 2, MinBackoff: testBackoff, MaxBackoff: testBackoff}
		p := start(t, s, sp)
		want := "starting()[] running()[] restarting(exit status 1)[] running()[] failed(exit status 1)[exit status 1]"
		if got := strings.Join(changesOf(t, w, p), " "); got != want {
			t.Errorf("changes = %s, want %s", got, want)
		}
	})
	t.Run("exit and stop", func(t *testing.T) {
		s := newSupervisor(t, Options{Grace: 50 * time.Millisecond})
		w := s.WatchStates(0)
		defer w.Close()
		p := start(t, s, helper("printer", "print", "1", "0", "3"))
		if got, want := strings.Join(changesOf(t, w, p), " "), "starting()[] running()[] exited()[exit status 3]"; got != want {
			t.Errorf("changes = %s, want %s", got, want)
		}
		p = start(t, s, helper("stubborn", "ignoreterm"))
		eventually(t, "a running child", func() bool { return p.Info().PID > 0 })
		stop(t, p)
		if got, want := strings.Join(changesOf(t, w, p), " "), "starting()[] running()[] stopped()[]"; got != want {
			t.Errorf("changes = %s, want %s", got, want)
		}
	})
	t.Run("ready and kicked", func(t *testing.T) {
		s := newSupervisor(t, Options{Grace: 50 * time.Millisecond})
		w := s.WatchStates(0)
		defer w.Close()
		sp := helper("ready", "ignoreterm")
		sp.Ready = untilLine("ignoring SIGTERM")
		sp.Restart = RestartPolicy{Always: true, MinBackoff: testBackoff, MaxBackoff: testBackoff}
		p := start(t, s, sp)
		if err := p.WaitReady(context.Background()); err != nil {
			t.Fatal(err)
		}
		p.Kick("network changed")
		eventually(t, "the restart", func() bool { return p.Info().Restarts == 1 && p.Info().State == Ready })
		stop(t, p)
		want := "starting()[] ready()[] restarting(kicked: network changed)[] ready()[] stopped()[]"
		if got := strings.Join(changesOf(t, w, p), " "); got != want {
			t.Errorf("changes = %s, want %s", got, want)
		}
	})
	t.Run("lagging watcher dropped, shutdown closes", func(t *testing.T) {
		s := New(Options{})
		slow := s.WatchStates(1)
		fast := s.WatchStates(0)
		p := start(t, s, helper("printer", "print", "0", "0", "0"))
		waitDone(t, p)
		if err := s.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		for range slow.C() {
		}
		if !errors.Is(slow.Err(), ErrLagging) {
			t.Errorf("slow watcher's Err() = %v, want ErrLagging", slow.Err())
		}
		n := 0
		for range fast.C() {
			n++
		}
		if n != 3 || !errors.Is(fast.Err(), ErrShutdown) {
			t.Errorf("fast watcher got %d changes and Err() %v, want 3 and ErrShutdown", n, fast.Err())
		}
		if late := s.WatchStates(0); late.Err() != ErrShutdown {
			t.Errorf("WatchStates after Shutdown: Err() = %v, want ErrShutdown", late.Err())
		}
	})
}
