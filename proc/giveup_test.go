package proc

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestGiveUp ends processes with GiveUp in each phase of their life: a running one and one in
// backoff end Failed with the reason, listed with their last lines until Stopped; one already
// stopping or failed is left as it is.
func TestGiveUp(t *testing.T) {
	forever := RestartPolicy{Always: true, MinBackoff: time.Hour, MaxBackoff: time.Hour}
	tests := []struct {
		name      string
		spec      Spec
		before    func(t *testing.T, p *Process) // brings p where GiveUp meets it
		wantState State
		wantWhy   string
	}{
		{"running", Spec{Name: "sleep", Argv: []string{"sleep", "1000"}, Restart: forever},
			func(t *testing.T, p *Process) {}, Failed, "pointless"},
		{"in backoff", helperSpec("crash", forever),
			func(t *testing.T, p *Process) {
				eventually(t, "in backoff", func() bool { return p.Info().State == Restarting })
			}, Failed, "pointless"},
		{"stopped", Spec{Name: "sleep", Argv: []string{"sleep", "1000"}},
			func(t *testing.T, p *Process) { stop(t, p) }, Stopped, ""},
		{"failed", helperSpec("crash", RestartPolicy{MaxFailures: 1}),
			func(t *testing.T, p *Process) { waitDone(t, p) }, Failed, "exit status 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSupervisor(t, Options{})
			p := start(t, s, tt.spec)
			pid := p.Info().PID
			tt.before(t, p)
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			if err := p.GiveUp(ctx, "pointless"); err != nil {
				t.Fatalf("GiveUp() = %v", err)
			}
			info := p.Info()
			if info.State != tt.wantState || info.Reason != tt.wantWhy {
				t.Errorf("after GiveUp(%q): %s with reason %q, want %s with %q", "pointless", info.State, info.Reason, tt.wantState, tt.wantWhy)
			}
			if !gone(pid) {
				t.Errorf("child %d alive after GiveUp", pid)
			}
			listed := slices.ContainsFunc(s.List(), func(i Info) bool { return i.ID == p.ID() })
			if listed != (tt.wantState == Failed) {
				t.Errorf("listed = %v after GiveUp, want %v", listed, tt.wantState == Failed)
			}
			if tt.wantWhy == "pointless" && !hasEvent(info.LastLines, "giving up: pointless") {
				t.Errorf("last lines %q, want the giving up", texts(info.LastLines, Event))
			}
			stop(t, p)
			if slices.ContainsFunc(s.List(), func(i Info) bool { return i.ID == p.ID() }) {
				t.Error("still listed after Stop")
			}
		})
	}
}

func helperSpec(name string, pol RestartPolicy) Spec {
	spec := helper(name, name)
	spec.Restart = pol
	return spec
}
