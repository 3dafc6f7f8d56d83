package proc

import (
	"slices"
	"sync"
	"time"
)

// StateChange says that a Process entered State (or, for Restarting, that it is trying again
// for a new Reason).
type StateChange struct {
	Time   time.Time
	ID     int64
	PID    int // the current child, or the latest one when none runs; 0 before the first
	Name   string
	Kind   string
	State  State
	Reason string // why, when there is a why: what failed before a restart or for good
	Exit   string // for Exited and Failed: the latest child's exit, e.g. "exit status 1"
}

// DefaultWatchQueue is the queue of a StateWatch when WatchStates is given 0.
const DefaultWatchQueue = 1024

// StateWatch receives the state changes of every Process of a Supervisor, in the order they
// happen. Its queue is bounded: a watcher that falls behind is dropped (ErrLagging) rather than
// allowed to slow a Process down. Methods are safe for concurrent use.
type StateWatch struct {
	s *Supervisor
	c chan StateChange

	closed bool  // guarded by s.watchMu
	err    error // guarded by s.watchMu
}

// watchers is the Supervisor's set of StateWatches. Its lock is taken under a Process's mu
// (states are published as they change) and never the other way round.
type watchers struct {
	mu     sync.Mutex
	list   []*StateWatch
	closed bool
}

// WatchStates returns a StateWatch of every state change from now on. queue bounds the
// changes queued but not yet received (0 means DefaultWatchQueue). The caller owns it and must
// Close it; Shutdown closes it too, with ErrShutdown, after the last process has stopped.
func (s *Supervisor) WatchStates(queue int) *StateWatch {
	if queue <= 0 {
		queue = DefaultWatchQueue
	}
	w := &StateWatch{s: s, c: make(chan StateChange, queue)}
	s.watch.mu.Lock()
	defer s.watch.mu.Unlock()
	if s.watch.closed {
		w.closeLocked(ErrShutdown)
		return w
	}
	s.watch.list = append(s.watch.list, w)
	return w
}

// C returns the channel of changes. It is closed when the StateWatch ends; Err then says why.
func (w *StateWatch) C() <-chan StateChange { return w.c }

// Err returns nil while the StateWatch is open or after Close, ErrLagging if it was dropped
// for falling behind, and ErrShutdown if the Supervisor shut down.
func (w *StateWatch) Err() error {
	w.s.watch.mu.Lock()
	defer w.s.watch.mu.Unlock()
	return w.err
}

// Close ends the StateWatch and closes C. Close is idempotent.
func (w *StateWatch) Close() {
	w.s.watch.mu.Lock()
	defer w.s.watch.mu.Unlock()
	if w.closed {
		return
	}
	w.s.watch.list = slices.DeleteFunc(w.s.watch.list, func(x *StateWatch) bool { return x == w })
	w.closeLocked(nil)
}

func (w *StateWatch) closeLocked(err error) {
	w.closed = true
	w.err = err
	close(w.c)
}

// publish hands ch to every StateWatch without blocking, dropping those whose queue is full.
func (s *Supervisor) publish(ch StateChange) {
	dropped := 0
	s.watch.mu.Lock()
	s.watch.list = slices.DeleteFunc(s.watch.list, func(w *StateWatch) bool {
		select {
		case w.c <- ch:
			return false
		default:
			w.closeLocked(ErrLagging)
			dropped++
			return true
		}
	})
	s.watch.mu.Unlock()
	if dropped > 0 {
		s.logf("proc: dropped %d lagging state watcher(s)", dropped)
	}
}

// closeWatches ends every StateWatch with ErrShutdown; later ones start closed.
func (s *Supervisor) closeWatches() {
	s.watch.mu.Lock()
	defer s.watch.mu.Unlock()
	for _, w := range s.watch.list {
		w.closeLocked(ErrShutdown)
	}
	s.watch.list = nil
	s.watch.closed = true
}

// publishLocked publishes that p entered st for why; p.mu is held.
func (p *Process) publishLocked(st State, why string) {
	pid := 0
	if p.child != nil {
		pid = p.child.pid
	} else if len(p.pids) > 0 {
		pid = p.pids[len(p.pids)-1]
	}
	ch := StateChange{Time: time.Now(), ID: p.id, PID: pid, Name: p.spec.Name, Kind: p.spec.Kind, State: st, Reason: why}
	if st == Exited || st == Failed {
		ch.Exit = p.exitDesc
	}
	p.s.publish(ch)
}
