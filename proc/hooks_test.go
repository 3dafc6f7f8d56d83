package proc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestPrepare(t *testing.T) {
	rec := &recorder{}
	s := newSupervisor(t, Options{Sink: rec})
	var calls atomic.Int32
	argv := []string{"/bin/sh", "-c", "echo prepared; exec sleep 1000"}
	p := start(t, s, Spec{
		Name: "prepared",
		Prepare: func(ctx context.Context, p *Process) ([]string, error) {
			n := calls.Add(1)
			p.Logf("preparing %d", n)
			if n <= 2 {
				return nil, fmt.Errorf("boom %d", n)
			}
			return argv, nil
		},
		Restart: RestartPolicy{MaxFailures: 5, MinBackoff: testBackoff, MaxBackoff: testBackoff},
	})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := p.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady() = %v, want nil", err)
	}
	info := p.Info()
	if info.State != Running || info.Attempt != 2 || info.Restarts != 0 || !slices.Equal(info.Argv, argv) || info.Reason != "prepare failed: boom 2" {
		t.Errorf("Info() = %s attempt %d restarts %d argv %q reason %q, want %s attempt 2 restarts 0 argv %q reason %q",
			info.State, info.Attempt, info.Restarts, info.Argv, info.Reason, Running, argv, "prepare failed: boom 2")
	}
	eventually(t, "output", func() bool { return slices.Contains(texts(p.Lines(0), Stdout), "prepared") })
	lines := rec.of(p.ID())
	for _, ev := range []string{"preparing 1", "prepare failed: boom 1", "preparing 2", "prepare failed: boom 2", "preparing 3", "subprocess started"} {
		if !hasEvent(lines, ev) {
			t.Errorf("no event %q in %q", ev, texts(lines, Event))
		}
	}
}

func TestStopDuringPrepare(t *testing.T) {
	s := newSupervisor(t, Options{})
	entered := make(chan struct{})
	p := start(t, s, Spec{
		Name: "slow prepare",
		Prepare: func(ctx context.Context, p *Process) ([]string, error) {
			close(entered)
			<-ctx.Done()
			return nil, ctx.Err()
		},
	})
	<-entered
	if got := p.Info().State; got != Starting {
		t.Errorf("Info().State during Prepare = %s, want %s", got, Starting)
	}
	stop(t, p)
	if got := p.Info().State; got != Stopped {
		t.Errorf("Info().State = %s, want %s", got, Stopped)
	}
}

func TestReadyAndHealth(t *testing.T) {
	errNotYet := errors.New("not yet")
	tests := []struct {
		name      string
		ready     bool // fail the first Ready check
		health    bool // fail the first Health check
		wantEvent string
		wantState State
	}{
		{name: "ready fails once", ready: true, wantEvent: "ready check failed: not yet; stopping subprocess", wantState: Ready},
		{name: "health fails once", health: true, wantEvent: "health check failed: not yet; stopping subprocess", wantState: Running},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			s := newSupervisor(t, Options{Sink: rec, Grace: 100 * time.Millisecond})
			var readyCalls, healthCalls atomic.Int32
			sp := Spec{
				Name:           "checked",
				Argv:           []string{"sleep", "1000"},
				HealthInterval: time.Millisecond,
				Restart:        RestartPolicy{MaxFailures: 3, MinBackoff: testBackoff, MaxBackoff: testBackoff},
			}
			if tt.ready {
				sp.Ready = func(ctx context.Context, p *Process) error {
					if readyCalls.Add(1) == 1 {
						return errNotYet
					}
					return nil
				}
			}
			if tt.health {
				sp.Health = func(ctx context.Context, p *Process) error {
					if healthCalls.Add(1) == 1 {
						return errNotYet
					}
					return nil
				}
			}
			p := start(t, s, sp)
			first := p.Info().PID
			eventually(t, "restarted and up", func() bool {
				i := p.Info()
				return i.Restarts == 1 && i.State == tt.wantState
			})
			if i := p.Info(); i.PID == first || i.Attempt != 1 || i.Reason != strings.TrimSuffix(tt.wantEvent, "; stopping subprocess") {
				t.Errorf("Info() = pid %d (first %d) attempt %d reason %q, want a new pid, attempt 1, reason %q",
					i.PID, first, i.Attempt, i.Reason, strings.TrimSuffix(tt.wantEvent, "; stopping subprocess"))
			}
			lines := rec.of(p.ID())
			if !hasEvent(lines, tt.wantEvent) {
				t.Errorf("no event %q in %q", tt.wantEvent, texts(lines, Event))
			}
			if tt.health {
				eventually(t, "health checked again", func() bool { return healthCalls.Load() >= 3 })
			}
		})
	}
}

func TestWaitReady(t *testing.T) {
	tests := []struct {
		name    string
		spec    Spec
		wantErr string // "" for nil
		state   State
	}{
		{name: "running", spec: Spec{Name: "sleeper", Argv: []string{"sleep", "1000"}}, state: Running},
		{name: "ready", spec: Spec{Name: "sleeper", Argv: []string{"sleep", "1000"},
			Ready: func(ctx context.Context, p *Process) error { return nil }}, state: Ready},
		{name: "exits", spec: Spec{Name: "quitter", Argv: []string{"sh", "-c", "exit 4"},
			Ready: func(ctx context.Context, p *Process) error { <-ctx.Done(); return ctx.Err() }},
			wantErr: "proc: not running: quitter is exited: exit status 4", state: Exited},
		{name: "never ready", spec: Spec{Name: "sleeper", Argv: []string{"sleep", "1000"},
			Ready:   func(ctx context.Context, p *Process) error { return errors.New("no greeting") },
			Restart: RestartPolicy{MaxFailures: 2, MinBackoff: testBackoff, MaxBackoff: testBackoff}},
			wantErr: "proc: not running: sleeper is failed: ready check failed: no greeting", state: Failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSupervisor(t, Options{Grace: 100 * time.Millisecond})
			p := start(t, s, tt.spec)
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			err := p.WaitReady(ctx)
			switch {
			case tt.wantErr == "" && err != nil, tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Errorf("WaitReady() = %v, want %q", err, tt.wantErr)
			case tt.wantErr != "" && !errors.Is(err, ErrNotRunning):
				t.Errorf("WaitReady() = %v, want it to wrap ErrNotRunning", err)
			}
			if got := p.Info().State; got != tt.state {
				t.Errorf("Info().State = %s, want %s", got, tt.state)
			}
		})
	}
}

func TestWaitReadyContext(t *testing.T) {
	s := newSupervisor(t, Options{})
	p := start(t, s, Spec{Name: "never", Argv: []string{"sleep", "1000"},
		Ready: func(ctx context.Context, p *Process) error { <-ctx.Done(); return ctx.Err() }})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.WaitReady(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitReady(cancelled) = %v, want %v", err, context.Canceled)
	}
}
