package proc

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// maxPIDs is how many pids of former children a Process remembers for Lookup.
const maxPIDs = 32

// Process is one supervised command and its successive children. It is
// created by Supervisor.Start and lives until it reaches a terminal state,
// then stays reachable for the Supervisor's Retain period. Its methods are
// safe for concurrent use.
type Process struct {
	s    *Supervisor
	id   int64
	spec Spec // immutable after Start

	// ctx is the hooks' context; cancel is called by requestStop and when
	// the process ends.
	ctx    context.Context
	cancel context.CancelFunc
	stopc  chan struct{} // closed by requestStop
	kickc  chan struct{} // a Kick while no child runs: cuts the backoff short
	checkc chan struct{} // CheckNow: run the Health check now
	done   chan struct{} // closed when terminal

	ring ring // guarded by s.outMu

	mu          sync.Mutex
	state       State
	since       time.Time     // when state was last set
	changed     chan struct{} // closed and replaced on every state change
	child       *child        // the current child, nil between children
	argv        []string
	pids        []int // of recent children, oldest first
	started     time.Time
	ended       time.Time
	nextRestart time.Time
	restarts    int
	attempt     int
	exitCode    int
	exitDesc    string
	reason      string
	stopping    bool
	giveUp      string // set by GiveUp: the stop ends in Failed with this reason
	stopReason  string // set by StopBecause: the stop ends in Stopped with this reason, listed
	dismissed   bool   // a Failed process that was Stopped: no longer listed
}

func newProcess(ctx context.Context, s *Supervisor, id int64, spec Spec) *Process {
	p := &Process{
		s:       s,
		id:      id,
		spec:    spec,
		stopc:   make(chan struct{}),
		kickc:   make(chan struct{}, 1),
		checkc:  make(chan struct{}, 1),
		done:    make(chan struct{}),
		ring:    newRing(s.opts.RingLines),
		state:   Starting,
		since:   time.Now(),
		changed: make(chan struct{}),
		argv:    spec.Argv,
	}
	// The process outlives the Start call; it keeps the values of its ctx.
	p.ctx, p.cancel = context.WithCancel(context.WithoutCancel(ctx))
	return p
}

// ID returns the process's supervisor-assigned ID, unique within its
// Supervisor and stable across restarts.
func (p *Process) ID() int64 { return p.id }

// Info returns a snapshot of the process.
func (p *Process) Info() Info {
	p.mu.Lock()
	info := Info{
		ID:          p.id,
		Name:        p.spec.Name,
		Kind:        p.spec.Kind,
		Argv:        slices.Clone(p.argv),
		State:       p.state,
		Since:       p.since,
		Started:     p.started,
		Ended:       p.ended,
		Restarts:    p.restarts,
		Attempt:     p.attempt,
		NextRestart: p.nextRestart,
		ExitCode:    p.exitCode,
		ExitDesc:    p.exitDesc,
		Reason:      p.reason,
		Listed:      p.listedLocked(),
	}
	if p.child != nil {
		info.PID = p.child.pid
	}
	p.mu.Unlock()
	if info.State == Failed || info.State == Exited {
		info.LastLines = p.Lines(lastLinesInInfo)
	}
	return info
}

// Logf emits an Event line (one per line of the formatted text) under this
// process, attributed to its current child if one runs.
func (p *Process) Logf(format string, args ...any) {
	p.mu.Lock()
	pid := 0
	if p.child != nil {
		pid = p.child.pid
	}
	p.mu.Unlock()
	p.emitEvent(pid, fmt.Sprintf(format, args...))
}

// emitEvent emits text as Event lines with the given pid.
func (p *Process) emitEvent(pid int, text string) {
	text = strings.TrimRight(text, "\n")
	now := time.Now()
	var lines []Line
	for t := range strings.SplitSeq(text, "\n") {
		lines = append(lines, Line{Time: now, ID: p.id, PID: pid, Name: p.spec.Name, Stream: Event, Text: t})
	}
	p.s.emit(p, lines, 0)
}

// Stop stops the process: SIGTERM to the current child's process group,
// SIGKILL after the Supervisor's Grace, and no more restarts. It returns
// once the child is reaped and the state is Stopped, or with ctx's error if
// ctx ends first (the stop goes on). Stopping a Failed process removes it
// from List; stopping an Exited or Stopped one does nothing. Stop is
// idempotent.
func (p *Process) Stop(ctx context.Context) error {
	p.requestStop()
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// GiveUp stops the process as Stop does, but ends it Failed with reason, as
// if its restart policy had given up: it stays in List, with the reason and
// its last lines, until it is Stopped or Retain expires. It is for owners
// that know further attempts are pointless. On a process already stopping or
// terminal it only waits, like Stop, and changes nothing.
func (p *Process) GiveUp(ctx context.Context, reason string) error {
	if reason == "" {
		reason = "given up"
	}
	p.stopFor(reason, "")
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// StopBecause starts stopping the process as Stop does, without waiting, and
// records why: it ends Stopped with reason as its Reason and, unlike after a
// plain Stop, stays in List (as a Failed process does) until it is Stopped
// again or Retain expires, so people can see why it ended. It is for owners
// that end a process on their own, e.g. after an idle timeout. Done is closed
// when it is over. On a process already stopping or terminal it does nothing.
func (p *Process) StopBecause(reason string) {
	if reason == "" {
		reason = "stopped by its owner"
	}
	p.stopFor("", reason)
}

// GiveUpLater is GiveUp without the wait, for a hook (which GiveUp, waiting
// for the hook's own goroutine, would deadlock) or any owner that need not
// wait. Done is closed when it is over.
func (p *Process) GiveUpLater(reason string) {
	if reason == "" {
		reason = "given up"
	}
	p.stopFor(reason, "")
}

// requestStop starts stopping p without waiting.
func (p *Process) requestStop() { p.stopFor("", "") }

// stopFor starts stopping p without waiting; a non-empty giveUp makes it end
// Failed with that reason instead of Stopped, a non-empty because makes it end
// Stopped with that reason, still listed.
func (p *Process) stopFor(giveUp, because string) {
	p.mu.Lock()
	if p.state.Terminal() {
		if (p.state == Failed || p.stopReason != "") && giveUp == "" && because == "" {
			p.dismissed = true
		}
		p.mu.Unlock()
		return
	}
	if p.stopping {
		p.mu.Unlock()
		return
	}
	p.stopping = true
	p.giveUp = giveUp
	p.stopReason = because
	close(p.stopc)
	p.cancel()
	c := p.child
	p.mu.Unlock()
	if c != nil {
		if c.cmd != nil {
			p.emitEvent(c.pid, "stopping: SIGTERM to process group")
		}
		// If c is reaped meanwhile, terminate does nothing; a child started
		// after we set stopping is terminated by startChild.
		c.terminate()
	}
}

// killNow sends SIGKILL to the current child's group at once (Shutdown out
// of time).
func (p *Process) killNow() {
	p.mu.Lock()
	c := p.child
	p.mu.Unlock()
	if c != nil {
		c.signal(syscall.SIGKILL)
	}
}

// Kick kills the current child (SIGTERM, then SIGKILL after Grace) so that
// the process restarts at once, without backoff and without counting a
// failure; in backoff, it cuts the wait short. A process whose policy never
// restarts just ends (Exited). Kick does not wait.
func (p *Process) Kick(reason string) {
	p.mu.Lock()
	if p.state.Terminal() || p.stopping {
		p.mu.Unlock()
		return
	}
	c := p.child
	if c != nil && c.cause == "" {
		c.cause = "kicked: " + reason
		c.kicked = true
	}
	p.mu.Unlock()
	p.Logf("kicked: %s", reason)
	if c != nil {
		c.terminate()
		return
	}
	select {
	case p.kickc <- struct{}{}:
	default:
	}
}

// RetryNow cuts a restart's backoff short, so the next attempt starts at once.
// Unlike Kick it never kills a child: an attempt in progress goes on, and a
// process that is up is left alone. It does not wait.
func (p *Process) RetryNow(reason string) {
	p.mu.Lock()
	waiting := p.state == Restarting && p.child == nil && !p.nextRestart.IsZero() && !p.stopping
	p.mu.Unlock()
	if !waiting {
		return
	}
	p.Logf("retrying now: %s", reason)
	select {
	case p.kickc <- struct{}{}:
	default:
	}
}

// CheckNow runs the Health check at once instead of at the next interval, if
// the process is up and has one; a failure restarts it as usual. It does not
// wait.
func (p *Process) CheckNow() {
	select {
	case p.checkc <- struct{}{}:
	default:
	}
}

// WaitReady returns nil as soon as the state is Ready or Running, an error
// wrapping ErrNotRunning (with the reason) once the process is terminal, or
// ctx's error.
func (p *Process) WaitReady(ctx context.Context) error {
	for {
		p.mu.Lock()
		st, ch := p.state, p.changed
		reason := p.reason
		if reason == "" {
			reason = p.exitDesc
		}
		p.mu.Unlock()
		switch {
		case st == Ready || st == Running:
			return nil
		case st.Terminal():
			if reason == "" {
				return fmt.Errorf("%w: %s is %s", ErrNotRunning, p.spec.Name, st)
			}
			return fmt.Errorf("%w: %s is %s: %s", ErrNotRunning, p.spec.Name, st, reason)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Done returns a channel closed when the process is terminal (Exited,
// Stopped or Failed).
func (p *Process) Done() <-chan struct{} { return p.done }

// Lines returns a copy of the last n lines of the ring, oldest first;
// n <= 0 means all of them.
func (p *Process) Lines(n int) []Line {
	p.s.outMu.Lock()
	defer p.s.outMu.Unlock()
	return p.ring.last(n)
}

// listed reports whether List shows p.
func (p *Process) listed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.listedLocked()
}

func (p *Process) listedLocked() bool {
	return !(p.state == Exited || (p.state == Stopped && p.stopReason == "") || p.dismissed)
}

// hadPID reports whether the current or a recent child of p had pid.
func (p *Process) hadPID(pid int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Contains(p.pids, pid)
}

// adopt makes c the current child and reports whether p is being stopped.
func (p *Process) adopt(c *child) (stopping bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started.IsZero() {
		p.started = c.started
	} else {
		p.restarts++
	}
	p.child = c
	p.argv = c.argv
	if len(p.pids) == maxPIDs {
		p.pids = slices.Delete(p.pids, 0, 1)
	}
	if c.pid != 0 {
		p.pids = append(p.pids, c.pid)
	}
	// A Kick that came while no child ran is spent.
	select {
	case <-p.kickc:
	default:
	}
	return p.stopping
}

// setStateLocked changes the state, wakes WaitReady and tells the state watchers. why says
// what led there, if anything; a new why is news even when the state stays (a process trying
// again after another failure).
func (p *Process) setStateLocked(st State, why string) {
	if p.state == st {
		if why != "" {
			p.publishLocked(st, why)
		}
		return
	}
	p.state = st
	p.since = time.Now()
	close(p.changed)
	p.changed = make(chan struct{})
	p.publishLocked(st, why)
}
