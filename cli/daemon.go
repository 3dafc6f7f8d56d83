package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rhizome-dev/rhizome/env"
	"github.com/rhizome-dev/rhizome/rpc"
	"github.com/rhizome-dev/rhizome/rpc/safesocket"
)

// readyFD is the descriptor on which a daemon started by startDaemon reports "ready PID" or
// the error that stopped it, then closes it.
const readyFD = 3

// startTimeout bounds how long a starting agent may take to answer.
const startTimeout = 15 * time.Second

// ensureAgent returns the agent answering at socket, starting one when none does. Concurrent
// callers (several shells opening at once) serialise on a start lock next to the socket, and
// the loser of the race finds the winner's agent, so exactly one agent results.
func ensureAgent(ctx context.Context, socket string) (v rpc.VersionResult, started bool, err error) {
	if v, err := queryAgent(ctx, socket); !errors.Is(err, rpc.ErrNoAgent) {
		return v, false, err // the agent, or a reason not to start one (a socket not ours to trust)
	}
	if err := os.MkdirAll(filepath.Dir(socket), 0o700); err != nil {
		return v, false, fmt.Errorf("creating socket directory: %w", err)
	}
	// Checked again now that it exists: the start lock is created in it.
	if err := safesocket.CheckSocket(socket); err != nil {
		return v, false, err
	}
	lock, err := takeStartLock(socket+".start", startTimeout)
	if err != nil {
		return v, false, err
	}
	defer releaseStartLock(lock)
	if v, err := queryAgent(ctx, socket); !errors.Is(err, rpc.ErrNoAgent) {
		return v, false, err // another shell started it while we waited
	}
	pid, err := startDaemon(socket)
	if err != nil {
		return v, false, err
	}
	v, err = queryAgent(ctx, socket)
	if err != nil {
		return v, false, fmt.Errorf("agent pid %d started but does not answer: %w", pid, err)
	}
	return v, true, nil
}

// lockWithin takes an exclusive flock on f, giving up after timeout: a starter that hangs while
// holding the lock must not hang every shell that opens after it (a dead holder is no problem:
// the kernel drops its lock). Only a contended start — several shells opening at once — ever
// waits here, so retrying with a short backoff costs the common path nothing.
func lockWithin(f *os.File, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, syscall.EWOULDBLOCK):
			return fmt.Errorf("taking start lock %s: %w", f.Name(), err)
		case time.Now().After(deadline):
			return fmt.Errorf("another rhizome has been starting an agent for over %v and still holds %s: stop that rhizome agent and retry", timeout, f.Name())
		}
		time.Sleep(wait)
	}
}

// queryAgent asks the agent at socket who it is.
func queryAgent(ctx context.Context, socket string) (rpc.VersionResult, error) {
	ctx, cancel := context.WithTimeout(ctx, answerTimeout)
	defer cancel()
	c, err := rpc.Dial(ctx, socket)
	if err != nil {
		return rpc.VersionResult{}, err
	}
	defer c.Close()
	return c.Version(ctx)
}

// startDaemon runs `rhizome agent --daemon` detached in its own session (it outlives the shell)
// and waits on a pipe, not a polling loop, until it listens or says why it cannot.
func startDaemon(socket string) (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("finding own executable: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	cmd := exec.Command(exe, "agent", "--daemon", "-a", socket)
	cmd.ExtraFiles = []*os.File{w} // becomes readyFD
	cmd.Dir = "/"
	cmd.Env = agentEnviron(os.Environ())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return 0, fmt.Errorf("starting agent: %w", err)
	}
	w.Close()
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // reaps it if it dies at start; harmless otherwise

	_ = r.SetReadDeadline(time.Now().Add(startTimeout))
	msg, readErr := bufio.NewReader(r).ReadString('\n')
	msg = strings.TrimSpace(msg)
	if rest, ok := strings.CutPrefix(msg, "ready "); ok {
		if n, err := strconv.Atoi(rest); err == nil {
			return n, nil
		}
	}
	if msg != "" {
		return 0, errors.New(strings.TrimPrefix(msg, "error: "))
	}
	if errors.Is(readErr, os.ErrDeadlineExceeded) {
		return 0, fmt.Errorf("agent pid %d did not start within %v", pid, startTimeout)
	}
	if readErr != nil && readErr != io.EOF {
		return 0, readErr
	}
	return 0, fmt.Errorf("agent pid %d exited while starting: %v", pid, <-exited)
}

// agentEnviron is the environment of an agent started for a client: the client's, without
// RHIZOME_SIMULATE. A client simulates by asking (env.ForwardParams sends it per request); an
// agent that inherited it would simulate every later forward, asked for real or not.
func agentEnviron(environ []string) []string {
	return slices.DeleteFunc(slices.Clone(environ), func(kv string) bool {
		return strings.HasPrefix(kv, env.VarSimulate+"=")
	})
}

// reportReady tells the starter, through readyFD, that the daemon listens (err == nil) or why
// it cannot. A daemon not started by startDaemon has no such descriptor and says nothing.
func reportReady(err error) {
	f := os.NewFile(readyFD, "ready")
	if f == nil {
		return
	}
	defer f.Close()
	if err != nil {
		fmt.Fprintf(f, "error: %v\n", err)
		return
	}
	fmt.Fprintf(f, "ready %d\n", os.Getpid())
}
