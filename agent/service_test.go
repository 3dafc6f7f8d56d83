package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/rpc"
)

// TestService runs one suite against the agent itself and against the typed client talking
// to it over the socket: both implement rpc.Service and must behave alike, errors included.
func TestService(t *testing.T) {
	t.Setenv("SLEEP_OVERRIDE", "0.02")
	for _, tc := range []struct {
		name string
		svc  func(a *Agent) rpc.Service
	}{
		{"agent", func(a *Agent) rpc.Service { return a }},
		{"client", func(a *Agent) rpc.Service { return dialAgent(t, a) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := startAgent(t)
			testService(t, tc.svc(a))
		})
	}
}

func testService(t *testing.T, svc rpc.Service) {
	ctx := t.Context()
	v, err := svc.Version(ctx)
	if err != nil || v.Protocol != rpc.ProtocolVersion || v.PID != os.Getpid() || v.Version != "test" {
		t.Fatalf("Version() = %+v, %v", v, err)
	}

	started, err := svc.Sleeper(ctx, rpc.SleeperParams{Interval: 30})
	if err != nil || started.PID <= 0 || started.Name != "sleeper" {
		t.Fatalf("Sleeper() = %+v, %v", started, err)
	}
	ps, err := svc.Ps(ctx)
	if err != nil || ps.Count != 1 || len(ps.Running) != 1 || ps.Running[0].PID != started.PID || ps.Running[0].State != "running" {
		t.Fatalf("Ps() = %+v, %v; want the one sleeper running", ps, err)
	}
	waitFor(t, "the sleeper's first line", func() bool {
		r, err := svc.Logs(ctx, rpc.LogsParams{Target: "sleeper"})
		return err == nil && len(r.Lines) >= 2 && r.Lines[1].Text == "0"
	})

	stopped, err := svc.Stop(ctx, rpc.StopParams{Target: itoa(started.PID)})
	if err != nil || len(stopped.Stopped) != 1 || stopped.Stopped[0].PID != started.PID || stopped.Stopped[0].State != "stopped" {
		t.Fatalf("Stop(%d) = %+v, %v", started.PID, stopped, err)
	}
	if processAlive(started.PID) {
		t.Errorf("sleeper pid %d still alive after Stop", started.PID)
	}
	if ps, _ := svc.Ps(ctx); ps.Count != 0 {
		t.Errorf("Ps() after Stop = %+v, want none", ps)
	}
	logs, err := svc.Logs(ctx, rpc.LogsParams{Target: itoa(started.PID), Lines: 1})
	if err != nil || len(logs.Lines) != 1 || !strings.HasPrefix(logs.Lines[0].Text, "subprocess finished") {
		t.Errorf("Logs(pid, 1) after Stop = %+v, %v; want the finished line", logs, err)
	}

	// Domain errors keep their meaning across the wire.
	errTests := []struct {
		name string
		call func() error
		want error
	}{
		{"stop unknown", func() error { _, err := svc.Stop(ctx, rpc.StopParams{Target: "nothing"}); return err }, rpc.ErrNotFound},
		{"logs unknown", func() error { _, err := svc.Logs(ctx, rpc.LogsParams{Target: "424242"}); return err }, rpc.ErrNotFound},
		{"bad interval", func() error { _, err := svc.Sleeper(ctx, rpc.SleeperParams{Interval: -1}); return err }, rpc.ErrInvalidParams},
		{"flag-like name", func() error {
			_, err := svc.Forward(ctx, rpc.ForwardParams{KubeContext: "-x", KubeNamespace: "n", KubeDeployment: "d", SQLConnection: "p:r:i"})
			return err
		}, rpc.ErrInvalidParams},
	}
	for _, tt := range errTests {
		if err := tt.call(); !errors.Is(err, tt.want) {
			t.Errorf("%s: error %v, want errors.Is %v", tt.name, err, tt.want)
		}
	}
}

func TestSubscribersGetEveryLine(t *testing.T) {
	t.Setenv("SLEEP_OVERRIDE", "0.01")
	a := startAgent(t)
	ctx := t.Context()
	var subs []*rpc.Subscription
	for range 3 {
		s, err := dialAgent(t, a).Subscribe(ctx, rpc.SubscribeParams{Target: "sleeper"})
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, s)
	}
	started, err := dialAgent(t, a).Sleeper(ctx, rpc.SleeperParams{})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range subs {
		var texts []string
		for len(texts) < 7 {
			select {
			case batch := <-s.C():
				for _, l := range batch {
					if l.ID == started.ID {
						texts = append(texts, l.Text)
					}
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("subscriber %d got %q, then nothing", i, texts)
			}
		}
		want := "subprocess started,0,1,2,3,4,subprocess finished status=0"
		if got := strings.Join(texts, ","); got != want {
			t.Errorf("subscriber %d got %q, want %q", i, got, want)
		}
		if err := s.Close(ctx); err != nil {
			t.Errorf("Close() = %v", err)
		}
	}
}

func TestCloseStopsChildrenAndRemovesSocket(t *testing.T) {
	a := startAgent(t)
	var pids []int
	for range 3 {
		s, err := a.Sleeper(t.Context(), rpc.SleeperParams{Interval: 60})
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, s.PID)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	for _, pid := range pids {
		if processAlive(pid) {
			t.Errorf("child %d alive after Close", pid)
		}
	}
	if _, err := os.Stat(a.Socket()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket after Close: %v, want it removed", err)
	}
}

func TestSecondAgentOnSameSocketRefused(t *testing.T) {
	a := startAgent(t)
	_, err := Start(Config{Socket: a.Socket()})
	if !errors.Is(err, ErrAgentRunning) || !strings.Contains(err.Error(), itoa(os.Getpid())) {
		t.Errorf("second Start() = %v, want ErrAgentRunning naming pid %d", err, os.Getpid())
	}
	if _, err := dialAgent(t, a).Ps(t.Context()); err != nil {
		t.Errorf("first agent after the refused second: %v", err)
	}
}

func TestSocketDirectoryChecks(t *testing.T) {
	dir := shortDir(t)
	loose := filepath.Join(dir, "loose")
	if err := os.Mkdir(loose, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Start(Config{Socket: filepath.Join(loose, "agent.sock"), StrictDir: true})
	if err == nil || !strings.Contains(err.Error(), "has mode 0755, want 0700: run chmod 700") {
		t.Errorf("Start() in a 0755 directory = %v, want a refusal naming chmod 700", err)
	}
	long := filepath.Join(dir, strings.Repeat("d", 110), "agent.sock")
	if _, err := Start(Config{Socket: long}); err == nil || !strings.Contains(err.Error(), "choose a shorter one") {
		t.Errorf("Start() with a %d-byte path = %v, want a clear refusal", len(long), err)
	}
}

func TestUnwritableLogfileKeepsServing(t *testing.T) {
	dir := shortDir(t)
	exe, _ := os.Executable()
	a, err := Start(Config{Socket: filepath.Join(dir, "a.sock"), LogFile: "/proc/rhizome/agent.log", Executable: exe})
	if err != nil {
		t.Fatalf("Start() with an unwritable logfile = %v, want it to serve anyway", err)
	}
	defer a.Close()
	ps, err := dialAgent(t, a).Ps(context.Background())
	if err != nil || len(ps.Warnings) != 1 || !strings.Contains(ps.Warnings[0], "logfile /proc/rhizome/agent.log is not being written") {
		t.Errorf("Ps() = %+v, %v; want a warning about the logfile", ps, err)
	}
}

func processAlive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

func itoa(n int) string { return strconv.Itoa(n) }

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("gave up waiting for %s", what)
}
