package clustertest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// spawner starts child processes from one OS thread that lives until close. Linux delivers a
// child's Pdeathsig when the thread that forked it exits, not when the process does, so starting
// children from arbitrary goroutines (whose threads the runtime may retire) could kill them early.
// The zero value is not usable; use newSpawner. Safe for concurrent use until close.
type spawner struct {
	reqs chan spawnReq
}

type spawnReq struct {
	cmd  *exec.Cmd
	errc chan error
}

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan spawnReq)}
	go s.loop()
	return s
}

// loop never unlocks its thread, so when it returns the runtime ends the thread, which also
// kills any child still alive; close is only called once they are stopped.
func (s *spawner) loop() {
	runtime.LockOSThread()
	for r := range s.reqs {
		r.errc <- r.cmd.Start()
	}
}

func (s *spawner) close() { close(s.reqs) }

// child is one long-lived process of the cluster. Its own goroutine owns Wait; done is closed
// when the process has exited.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // Wait's result; read only after done is closed
}

// start runs cmd in its own process group (see childAttr), with stdout and stderr appended to
// logPath. It keeps the Credential of cmd.SysProcAttr, if any.
func (s *spawner) start(name, logPath string, cmd *exec.Cmd) (*child, error) {
	out, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	// The child gets its own copy of the descriptor; ours is not needed after Start.
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	attr := childAttr()
	if cmd.SysProcAttr != nil {
		attr.Credential = cmd.SysProcAttr.Credential
	}
	cmd.SysProcAttr = attr
	errc := make(chan error, 1)
	s.reqs <- spawnReq{cmd: cmd, errc: errc}
	if err := <-errc; err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// exited reports whether the process has ended.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the child's process group, then SIGKILL after grace, and waits for it.
// A zero grace kills at once. It returns nil when the child was stopped by its signal.
func (c *child) stop(grace time.Duration) error {
	if c.exited() {
		return nil
	}
	pgid := c.cmd.Process.Pid // Setpgid made the child the group leader
	sig := syscall.SIGTERM
	if grace == 0 {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-pgid, sig)
	select {
	case <-c.done:
	case <-time.After(grace):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-c.done
	}
	var ee *exec.ExitError
	if c.err != nil && !errors.As(c.err, &ee) {
		return fmt.Errorf("stopping %s: %w", c.name, c.err)
	}
	return nil
}
