package forward

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rhizome-dev/rhizome/env"
	"github.com/rhizome-dev/rhizome/forward/door"
	"github.com/rhizome-dev/rhizome/proc"
)

// entry is one forward: its process (the back end, restarted under it), its front door, its
// handle, and how it is going.
//
// Once a forward has been ready it never gives up by itself: any failure means another try,
// for as long as it lives (until rhizome stop, its idle-timeout or max-age, or the agent's end).
// Its first start is different, since someone is waiting at a terminal: a failure that retrying
// cannot fix (env.Diagnose) ends it at once with the fix in words, and a transient one is retried
// while a client still waits for it (each up to its Request.Wait).
type entry struct {
	proc   *proc.Process
	handle Handle
	door   *door.Door
	life   *lifetime
	where  env.Where
	req    Request       // what started it
	start  time.Time     // when it started, for a max-age set later
	over   chan struct{} // closed once the door is closed: the forward is gone for good

	mu        sync.Mutex
	everReady bool
	waiters   int           // Forward calls waiting for this forward
	last      *failure      // the latest failed attempt since the forward was last ready
	gaveUp    chan struct{} // closed when the first start failed for good
	firstErr  *failure      // why it did
	endState  string        // StateIdleStopped or StateExpired when the forward ended itself
}

// failure is a failed attempt, what retrying can do about it, and the fix.
type failure struct {
	err  error
	kind env.FailureKind
	fix  string
}

func (f *failure) Error() string {
	if f.fix == "" {
		return f.err.Error()
	}
	return fmt.Sprintf("%v\n  fix: %s", f.err, f.fix)
}

func newEntry(r Request, d *door.Door) *entry {
	return &entry{
		handle: newHandle(d, r), door: d, req: r, start: time.Now(),
		where: env.Where{Environment: r.Name, Context: r.Context, Namespace: r.Namespace,
			Deployment: r.Deployment, Instance: r.SQLConnection},
		gaveUp: make(chan struct{}), over: make(chan struct{}),
	}
}

// watch wraps spec's hooks to learn how each attempt goes.
func (e *entry) watch(spec *proc.Spec) {
	prepare, ready := spec.Prepare, spec.Ready
	spec.Prepare = func(ctx context.Context, p *proc.Process) ([]string, error) {
		argv, err := prepare(ctx, p)
		if err != nil && ctx.Err() == nil {
			e.failed(p, err)
		}
		return argv, err
	}
	spec.Ready = func(ctx context.Context, p *proc.Process) error {
		err := ready(ctx, p)
		if err != nil {
			e.failed(p, err)
			return err
		}
		e.mu.Lock()
		e.everReady, e.last = true, nil
		e.mu.Unlock()
		return nil
	}
}

// failed records a failed attempt; on a first start, one that retrying cannot fix ends it.
func (e *entry) failed(p *proc.Process, err error) {
	kind, fix := env.Diagnose(err.Error(), e.where)
	f := &failure{err: err, kind: kind, fix: fix}
	e.mu.Lock()
	e.last = f
	firstStart := !e.everReady
	e.mu.Unlock()
	if fix != "" {
		p.Logf("fix: %s", fix)
	}
	if firstStart && kind != env.Transient {
		e.giveUp(p, f)
	}
}

// giveUp ends a first start for good: the process ends Failed with the reason, so ps keeps it
// with its last lines, and every waiting Forward returns f.
func (e *entry) giveUp(p *proc.Process, f *failure) {
	e.mu.Lock()
	if e.firstErr != nil {
		e.mu.Unlock()
		return
	}
	e.firstErr = f
	close(e.gaveUp)
	e.mu.Unlock()
	p.GiveUpLater(f.err.Error())
}

// waitReady waits, up to wait, for the forward to be ready and returns its handle. Asking a
// forward that is reconnecting makes it try again now. The last client to stop waiting for a
// forward that was never ready ends it.
func (e *entry) waitReady(ctx context.Context, wait time.Duration) (Handle, error) {
	e.mu.Lock()
	e.waiters++
	wasReady := e.everReady
	e.mu.Unlock()
	if wasReady {
		e.proc.RetryNow("a client asked for it")
	}
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	readyErr := make(chan error, 1)
	go func() { readyErr <- e.proc.WaitReady(waitCtx) }()
	var err error
	select {
	case err = <-readyErr:
	case <-e.gaveUp:
		cancel()
		<-readyErr
		err = errGaveUp
	}

	e.mu.Lock()
	e.waiters--
	nobodyWaits := e.waiters == 0 && !e.everReady
	last, first := e.last, e.firstErr
	e.mu.Unlock()
	if err == nil {
		return e.handle, nil
	}
	if first != nil {
		return Handle{}, fmt.Errorf("%w: %v", ErrFailed, first)
	}
	timedOut := errors.Is(waitCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
	why := err
	if last != nil {
		why = last
	}
	if nobodyWaits {
		f := &failure{err: fmt.Errorf("not ready within %v: %v", wait, why), kind: env.Transient}
		if !timedOut {
			f.err = fmt.Errorf("no client waits for it any more; last: %v", why)
		}
		e.giveUp(e.proc, f)
	}
	switch {
	case ctx.Err() != nil:
		return Handle{}, ctx.Err()
	case timedOut && wasReady:
		return Handle{}, fmt.Errorf("%w: still reconnecting after %v (it keeps trying): %v", ErrFailed, wait, why)
	case timedOut:
		return Handle{}, fmt.Errorf("%w: not ready within %v (--wait): %v", ErrFailed, wait, why)
	}
	return Handle{}, fmt.Errorf("%w: %v", ErrFailed, why)
}

var errGaveUp = errors.New("forward: the first start failed")

// The door closes first, so its clients are cut by it, at once and counted, rather than by
// the back end's end.
func (e *entry) endItself(state, reason string) {
	e.mu.Lock()
	e.endState = state
	e.mu.Unlock()
	if cut := e.door.Close(reason); cut > 0 {
		e.proc.Logf("%s: closed the front door, cutting %d open connection%s", reason, cut, plural(cut))
	}
	e.proc.StopBecause(reason)
}

func (e *entry) endingItself() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.endState != ""
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
