package proc

import (
	"fmt"
	"slices"
	"time"
)

// outcome is how an attempt ended.
type outcome struct {
	ran      bool          // a child ran and has been reaped
	runTime  time.Duration // how long it ran
	kicked   bool          // it was killed by Kick
	failed   bool          // the attempt failed (see RestartPolicy)
	byItself bool          // the child exited on its own (not killed after a failed check, nor never started)
	reason   string
}

// run owns p's life: it supervises the first child (nil when Prepare must run
// first), decides on restarts, starts each later child, and finally ends p.
// Exactly one run goroutine exists per Process.
func (p *Process) run(c *child) {
	defer p.s.wg.Done()
	for {
		var o outcome
		if c == nil {
			var reason string
			if c, reason = p.prepareAndStart(); c == nil {
				o = outcome{failed: true, reason: reason}
			}
		}
		if c != nil {
			o = p.supervise(c)
			c = nil
		}
		if !p.next(o) {
			return
		}
	}
}

// prepareAndStart runs Prepare, if set, and starts a child. On failure it
// returns a nil child and the reason.
func (p *Process) prepareAndStart() (*child, string) {
	if p.ctx.Err() != nil {
		return nil, "stopped" // next sees stopping
	}
	argv := p.spec.Argv
	if p.spec.Prepare != nil {
		a, err := p.spec.Prepare(p.ctx, p)
		if err == nil && p.spec.Run == nil && (len(a) == 0 || a[0] == "") {
			err = fmt.Errorf("no command")
		}
		if err != nil {
			if p.ctx.Err() != nil {
				return nil, "stopped"
			}
			reason := "prepare failed: " + err.Error()
			p.Logf("%s", reason)
			return nil, reason
		}
		argv = slices.Clone(a)
	}
	if p.spec.Run != nil {
		return p.startTask(argv), ""
	}
	c, err := p.startChild(argv)
	if err != nil {
		reason := "start failed: " + err.Error()
		p.Logf("%s", reason)
		return nil, reason
	}
	return c, ""
}

// supervise runs the Ready check and then the Health checks on c until c is
// reaped, and says how the attempt ended.
func (p *Process) supervise(c *child) outcome {
	if p.spec.Ready != nil {
		if err := p.spec.Ready(c.ctx, p); err != nil {
			p.killChild(c, "ready check failed: "+err.Error())
		} else if p.becomeUp(c, Ready) {
			p.emitEvent(c.pid, "ready")
		}
	} else {
		p.becomeUp(c, Running)
	}

	var healthC <-chan time.Time
	if p.spec.Health != nil {
		t := time.NewTicker(p.spec.HealthInterval)
		defer t.Stop()
		healthC = t.C
	}
	var stableC <-chan time.Time
	if d := p.spec.Restart.StableAfter; d > 0 {
		t := time.NewTimer(d - time.Since(c.started))
		defer t.Stop()
		stableC = t.C
	}
	for {
		select {
		case <-c.done:
			return p.reap(c)
		case <-stableC:
			// Shown in Info at once; reap checks the run time again anyway.
			stableC = nil
			p.mu.Lock()
			p.attempt = 0
			p.mu.Unlock()
		case <-healthC:
			p.checkHealth(c)
		case <-p.checkc:
			if p.spec.Health != nil {
				p.checkHealth(c)
			}
		}
	}
}

func (p *Process) checkHealth(c *child) {
	if !p.isUp(c) {
		return
	}
	if err := p.spec.Health(c.ctx, p); err != nil {
		p.killChild(c, "health check failed: "+err.Error())
	}
}

// becomeUp sets state st (Ready or Running) unless c is already going away.
func (p *Process) becomeUp(c *child, st State) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopping || c.cause != "" || c.ctx.Err() != nil {
		return false
	}
	p.setStateLocked(st, "")
	return true
}

// isUp reports whether c is running, checked, and not being killed.
func (p *Process) isUp(c *child) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return (p.state == Ready || p.state == Running) && !p.stopping && c.cause == "" && c.ctx.Err() == nil
}

// killChild terminates c for cause, unless it is already going away.
func (p *Process) killChild(c *child, cause string) {
	p.mu.Lock()
	if p.stopping || c.cause != "" || c.ctx.Err() != nil {
		p.mu.Unlock()
		return
	}
	c.cause = cause
	p.mu.Unlock()
	p.emitEvent(c.pid, cause+"; stopping subprocess")
	c.terminate()
}

// reap records the end of c, which is done, and says how the attempt ended.
func (p *Process) reap(c *child) outcome {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.child = nil
	p.exitCode, p.exitDesc = c.exitCode, c.exitDesc
	o := outcome{ran: true, runTime: c.ended.Sub(c.started), kicked: c.kicked, reason: c.cause}
	switch {
	case c.kicked:
		o.byItself = true // for a policy that never restarts: Exited
	case c.cause != "":
		o.failed = true
	case c.exitCode != 0:
		o.failed, o.byItself, o.reason = true, true, c.exitDesc
	default:
		o.byItself, o.reason = true, c.exitDesc
	}
	return o
}

// next applies the restart policy after an attempt: it records the failure,
// waits out the backoff and returns true for another attempt, or ends p and
// returns false.
func (p *Process) next(o outcome) bool {
	pol := p.spec.Restart
	p.mu.Lock()
	if p.stopping {
		p.mu.Unlock()
		p.finishStopped()
		return false
	}
	if o.ran && pol.StableAfter > 0 && o.runTime >= pol.StableAfter {
		p.attempt = 0
	}
	if o.kicked {
		if !pol.restartsAfterFailure() {
			p.mu.Unlock()
			p.finish(Exited)
			return false
		}
		p.setStateLocked(Restarting, o.reason)
		p.mu.Unlock()
		p.Logf("restarting now (%s)", o.reason)
		return true
	}
	// Under Always every exit counts: see RestartPolicy.
	if o.failed || pol.Always {
		p.attempt++
		p.reason = o.reason
	}
	failures := p.attempt
	if !(pol.Always || (o.failed && pol.MaxFailures != 0)) {
		p.mu.Unlock()
		if o.byItself {
			p.finish(Exited)
		} else {
			p.finish(Failed)
		}
		return false
	}
	if pol.givesUp(failures) {
		p.mu.Unlock()
		p.Logf("giving up after %d consecutive failures: %s", failures, o.reason)
		p.finish(Failed)
		return false
	}
	delay := pol.nextBackoff(failures)
	p.nextRestart = time.Now().Add(delay)
	p.setStateLocked(Restarting, o.reason)
	p.mu.Unlock()
	if pol.MaxFailures > 0 {
		p.Logf("restarting in %v (failure %d of %d): %s", delay.Round(time.Millisecond), failures, pol.MaxFailures, o.reason)
	} else {
		p.Logf("restarting in %v (failure %d): %s", delay.Round(time.Millisecond), failures, o.reason)
	}
	ok := p.sleep(delay)
	p.mu.Lock()
	p.nextRestart = time.Time{}
	p.mu.Unlock()
	if !ok {
		p.finishStopped()
	}
	return ok
}

// finishStopped ends p after a stop: Stopped, or Failed if GiveUp asked for it.
func (p *Process) finishStopped() {
	p.mu.Lock()
	reason, because := p.giveUp, p.stopReason
	if reason != "" {
		p.reason = reason
	} else if because != "" {
		p.reason = because
	}
	p.mu.Unlock()
	if reason == "" {
		if because != "" {
			p.Logf("stopped: %s", because)
		}
		p.finish(Stopped)
		return
	}
	p.Logf("giving up: %s", reason)
	p.finish(Failed)
}

// sleep waits d, less if kicked; it returns false if p is stopped meanwhile.
func (p *Process) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.kickc:
		return true
	case <-p.stopc:
		return false
	}
}

// finish puts p in terminal state st and releases its slot.
func (p *Process) finish(st State) {
	now := time.Now()
	p.mu.Lock()
	p.child = nil
	p.nextRestart = time.Time{}
	p.ended = now
	why := ""
	if st == Failed {
		why = p.reason
	}
	p.setStateLocked(st, why)
	p.mu.Unlock()
	p.cancel()
	p.s.processEnded(p, now)
	close(p.done)
}
