package env_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/agent"
	"github.com/rhizome-dev/rhizome/env"
	"github.com/rhizome-dev/rhizome/forward"
	"github.com/rhizome-dev/rhizome/forward/engine"
	"github.com/rhizome-dev/rhizome/rpc"
	"github.com/rhizome-dev/rhizome/rpc/safesocket"
)

// TestMain doubles as the simulated forward child of the agent under test, and as the
// watchdog it starts children through on macOS.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == agent.WatchdogCommand {
		if err := agent.RunWatchdog(os.Args[2:]); err != nil {
			os.Exit(127)
		}
		os.Exit(0)
	}
	if len(os.Args) > 1 && os.Args[1] == forward.SimulateCommand {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		defer stop()
		if err := forward.Simulate(ctx, os.Args[2:], os.Stdout); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestHandle calls the Go API the way user code would, against a real agent on a real socket,
// with a simulated forward behind it.
func TestHandle(t *testing.T) {
	dir, err := os.MkdirTemp("", "rzenv")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.MkdirAll(filepath.Join(dir, "rhizome"), 0o700); err != nil {
		t.Fatal(err)
	}
	// A port of its own, so no other package's test holds it.
	config := "environment na-prod\n database bookkeeper\n  instance clover-prod-databases:us-central1:billing-bookkeeper\n  port 23306\n"
	if err := os.WriteFile(filepath.Join(dir, "rhizome", "config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("RHIZOME_SIMULATE", "true")
	t.Setenv(env.VarSock, filepath.Join(dir, "a.sock"))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := env.Handle(ctx, "na-prod", "bookkeeper"); !errors.Is(err, rpc.ErrNoAgent) || !strings.Contains(err.Error(), `eval "$(rhizome agent)"`) {
		t.Errorf("Handle() with no agent = %v, want ErrNoAgent with a hint", err)
	}

	exe, _ := os.Executable()
	a, err := agent.Start(agent.Config{Socket: filepath.Join(dir, "a.sock"), Executable: exe})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	h, err := env.Handle(ctx, "na-prod", "bookkeeper")
	if err != nil || h.ConnectionString != "mysql://127.0.0.1:23306" || h.LocalPort != 23306 || h.SQLConnection != "clover-prod-databases:us-central1:billing-bookkeeper" {
		t.Fatalf("Handle(na-prod, bookkeeper) = %+v, %v", h, err)
	}
	if v, err := engine.CheckGreeting(ctx, "127.0.0.1:23306"); err != nil || !strings.Contains(v, "simulated") {
		t.Errorf("greeting through the handle = %q, %v", v, err)
	}
	if _, err := env.Handle(ctx, "na-prod", "nope"); !errors.Is(err, env.ErrUnknown) {
		t.Errorf("Handle(na-prod, nope) = %v, want ErrUnknown", err)
	}
}

// TestHandleRefusesASocketNotOurs: env.Handle, a client as much as the CLI, refuses a socket
// in a directory another user owns before it sends a byte (the listener accepts nothing).
func TestHandleRefusesASocketNotOurs(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("gives a directory to uid 65534: needs root (scripts/test runs as root)")
	}
	dir, err := os.MkdirTemp("", "rz")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := l.Accept(); err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv(env.VarSock, sock)
	_, err = env.Handle(context.Background(), "na-prod", "bookkeeper")
	if !errors.Is(err, safesocket.ErrUnsafe) || !strings.Contains(err.Error(), "belongs to uid 65534") {
		t.Fatalf("env.Handle with RHIZOME_SOCK in uid 65534's directory = %v, want safesocket.ErrUnsafe naming the owner", err)
	}
	select {
	case <-accepted:
		t.Error("env.Handle connected to the socket it refused")
	default:
	}
}
