package proc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// drainTimeout is how long output may stay open after a child's group was
// killed. Only a descendant that left the group (setsid) can hold the pipes
// that long; we stop listening to it.
const drainTimeout = 2 * time.Second

// errNoWaitNoReap is waitExited's answer where it cannot wait without reaping.
var errNoWaitNoReap = errors.New("waitid WNOWAIT unsupported")

// child is one OS process started for a Process, and the three goroutines
// that serve it: two readers and wait, the only caller of cmd.Wait. For a
// Spec.Run task it is one attempt inside our own process: cmd is nil, pid 0,
// and one goroutine runs the task; ending it means cancelling ctx.
type child struct {
	p       *Process
	cmd     *exec.Cmd
	pid     int
	started time.Time
	argv    []string

	// ctx is given to Ready and Health; wait cancels it when the child has
	// exited and its output is read, requestStop (through p's ctx) when the
	// process is stopped.
	ctx    context.Context
	cancel context.CancelFunc

	stdout, stderr *os.File      // read ends; closed by wait
	readDone       chan struct{} // each reader sends once when done

	// done is closed by wait once the child is reaped, its output drained
	// and "subprocess finished" emitted. The fields below it are set by then.
	done     chan struct{}
	ended    time.Time
	exitCode int
	exitDesc string

	// mu guards reaped and killTimer. It is held while signalling, so that
	// the child cannot be reaped (and its pid reused) in the meantime.
	mu        sync.Mutex
	reaped    bool
	killTimer *time.Timer

	// Guarded by p.mu: why the supervisor killed it, if it did.
	cause  string
	kicked bool
}

// startChild starts a child running argv and its goroutines, and makes it
// p's current child. If p is being stopped meanwhile, the child is stopped at
// once. Its errors are exec's (or os's), unwrapped.
func (p *Process) startChild(argv []string) (*child, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	if len(p.spec.Env) > 0 {
		cmd.Env = append(os.Environ(), p.spec.Env...)
	}
	if d := p.spec.Dir; d != "" {
		// The child's chdir failure would read "fork/exec /bin/x: no such
		// file or directory", blaming the binary.
		if _, err := os.Stat(d); err != nil {
			if pe, ok := err.(*os.PathError); ok {
				pe.Op = "chdir"
			}
			return nil, err
		}
		cmd.Dir = d
	}
	cmd.SysProcAttr = sysProcAttr(p.s.watchdog == nil)
	if wd := p.s.watchdog; wd != nil {
		if err := wd.wrap(cmd); err != nil {
			return nil, err
		}
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	// *os.File outputs are handed to the child as they are: no copying
	// goroutines inside exec, and we read the pipes ourselves.
	cmd.Stdout, cmd.Stderr = outW, errW
	err = p.s.spawn(cmd)
	// The child has its copies; ours would keep the pipes open forever.
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, err
	}
	c := &child{
		p:        p,
		cmd:      cmd,
		pid:      cmd.Process.Pid,
		started:  time.Now(),
		argv:     argv,
		stdout:   outR,
		stderr:   errR,
		readDone: make(chan struct{}, 2),
		done:     make(chan struct{}),
	}
	c.ctx, c.cancel = context.WithCancel(p.ctx)
	stopping := p.adopt(c)
	// Emitted before the readers start, so it precedes the child's output.
	p.emitEvent(c.pid, "subprocess started")
	go c.read(outR, Stdout)
	go c.read(errR, Stderr)
	go c.wait()
	if stopping {
		c.terminate()
	}
	return c, nil
}

// startTask starts a Spec.Run attempt as p's current child. If p is being
// stopped meanwhile, the task's ctx is cancelled at once.
func (p *Process) startTask(argv []string) *child {
	c := &child{p: p, started: time.Now(), argv: argv, done: make(chan struct{})}
	c.ctx, c.cancel = context.WithCancel(p.ctx)
	stopping := p.adopt(c)
	go c.runTask()
	if stopping {
		c.terminate()
	}
	return c
}

// runTask runs the task to its end and records how it ended, as wait does for
// a child.
func (c *child) runTask() {
	err := c.p.spec.Run(c.ctx, c.p)
	c.mu.Lock()
	c.reaped = true
	c.mu.Unlock()
	c.ended = time.Now()
	c.cancel()
	c.exitCode, c.exitDesc = 0, "ended"
	if err != nil {
		c.exitCode, c.exitDesc = 1, err.Error()
	}
	close(c.done)
}

// signal sends sig to the child's process group unless it has been reaped.
func (c *child) signal(sig syscall.Signal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.signalLocked(sig)
}

func (c *child) signalLocked(sig syscall.Signal) {
	if c.reaped || c.cmd == nil {
		return
	}
	if err := syscall.Kill(-c.pid, sig); err != nil && err != syscall.ESRCH {
		c.p.s.logf("proc: %s: signal %v to group %d: %v", c.p.spec.Name, sig, c.pid, err)
	}
}

// terminate sends SIGTERM to the group now and SIGKILL after the grace
// period unless the child has been reaped by then. Repeated calls do not
// restart the grace period.
func (c *child) terminate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reaped {
		return
	}
	if c.cmd == nil {
		c.cancel() // a task ends when its ctx does
		return
	}
	c.signalLocked(syscall.SIGTERM)
	if c.killTimer == nil {
		c.killTimer = time.AfterFunc(c.p.s.opts.Grace, c.killAfterGrace)
	}
}

func (c *child) killAfterGrace() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reaped {
		return
	}
	// Emitted under c.mu, so before wait can reap and say "finished".
	c.p.emitEvent(c.pid, fmt.Sprintf("still running %v after SIGTERM; sending SIGKILL to process group", c.p.s.opts.Grace))
	c.signalLocked(syscall.SIGKILL)
}

// wait owns cmd.Wait. Once the child has exited it kills what is left of its
// group, reaps it, waits for its output and emits "subprocess finished".
func (c *child) wait() {
	err := waitExited(c.pid)
	var waitErr error
	if err == errNoWaitNoReap {
		waitErr = c.cmd.Wait()
	} else if err != nil {
		c.p.s.logf("proc: %s: waitid %d: %v", c.p.spec.Name, c.pid, err)
	}
	c.mu.Lock()
	// The group does not outlive its leader: orphans would keep our pipes
	// open and run unsupervised. Safe: the zombie leader still holds the id.
	c.signalLocked(syscall.SIGKILL)
	c.reaped = true
	if c.killTimer != nil {
		c.killTimer.Stop()
	}
	c.mu.Unlock()
	if err != errNoWaitNoReap {
		waitErr = c.cmd.Wait()
	}
	c.ended = time.Now()
	// Drained before the hooks' ctx ends: a Ready or Health hook that sees its ctx end
	// because the child exited finds all of the child's output in Lines, and can say why.
	c.drain()
	c.cancel()
	c.exitCode, c.exitDesc = exitStatus(c.cmd.ProcessState, waitErr)
	status := c.exitDesc
	if ps := c.cmd.ProcessState; ps != nil && ps.Exited() {
		status = strconv.Itoa(c.exitCode)
	}
	c.p.emitEvent(c.pid, "subprocess finished status="+status)
	close(c.done)
}

// drain waits for both readers to reach EOF, giving up after drainTimeout by
// closing the pipes under them.
func (c *child) drain() {
	t := time.NewTimer(drainTimeout)
	defer t.Stop()
	closed := false
	for n := 0; n < 2; {
		select {
		case <-c.readDone:
			n++
		case <-t.C:
			c.p.s.logf("proc: %s: output still open %v after pid %d exited; closing it", c.p.spec.Name, drainTimeout, c.pid)
			c.stdout.Close() // unblocks the readers
			c.stderr.Close()
			closed = true
		}
	}
	if !closed {
		c.stdout.Close()
		c.stderr.Close()
	}
}

// exitStatus returns the exit code (-1 for a signal) and its description,
// e.g. "exit status 1" or "signal: killed".
func exitStatus(ps *os.ProcessState, err error) (int, string) {
	if ps == nil {
		if err == nil {
			return -1, "unknown"
		}
		return -1, err.Error()
	}
	return ps.ExitCode(), ps.String()
}
