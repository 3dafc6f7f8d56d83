package proc

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// A Run task is supervised as a child is: Ready makes it Ready, a failed Health check and a
// Kick end the attempt by cancelling its ctx and start another, a task that fails backs off
// and is tried again, and Stop ends it. It never has a pid.
func TestRunTask(t *testing.T) {
	s := newSupervisor(t, Options{})
	var attempts, healthy atomic.Int32
	healthy.Store(1)
	p := start(t, s, Spec{
		Name: "task",
		Prepare: func(ctx context.Context, p *Process) ([]string, error) {
			attempts.Add(1)
			return []string{"streams", "to", "pod"}, nil
		},
		Run: func(ctx context.Context, p *Process) error {
			if attempts.Load() == 1 {
				return errors.New("the session broke")
			}
			<-ctx.Done()
			return ctx.Err()
		},
		Ready: func(ctx context.Context, p *Process) error { return nil },
		Health: func(ctx context.Context, p *Process) error {
			return map[bool]error{true: nil, false: errors.New("sick")}[healthy.Load() == 1]
		},
		HealthInterval: time.Millisecond,
		Restart:        RestartPolicy{Always: true, MinBackoff: testBackoff, MaxBackoff: testBackoff},
	})
	eventually(t, "ready after a failed first attempt", func() bool {
		info := p.Info()
		return info.State == Ready && attempts.Load() >= 2
	})
	if info := p.Info(); info.PID != 0 || info.Argv[0] != "streams" {
		t.Errorf("Info() = pid %d argv %q, want no pid and the described argv", info.PID, info.Argv)
	}
	before := attempts.Load()
	p.Kick("test")
	eventually(t, "a new attempt after a kick", func() bool { return attempts.Load() > before && p.Info().State == Ready })
	before = attempts.Load()
	healthy.Store(0)
	eventually(t, "a new attempt after a failed check", func() bool { return attempts.Load() > before })
	healthy.Store(1)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := p.Stop(ctx); err != nil {
		t.Fatalf("Stop() = %v", err)
	}
	if st := p.Info().State; st != Stopped {
		t.Errorf("state after Stop = %s, want %s", st, Stopped)
	}
}

// A Run spec needs no Argv.
func TestRunTaskNeedsNoArgv(t *testing.T) {
	s := newSupervisor(t, Options{})
	p := start(t, s, Spec{Name: "bare task", Run: func(ctx context.Context, p *Process) error { <-ctx.Done(); return nil }})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := p.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady() = %v", err)
	}
	if err := p.Stop(ctx); err != nil {
		t.Fatalf("Stop() = %v", err)
	}
}
