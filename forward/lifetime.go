package forward

import (
	"fmt"
	"sync"
	"time"
)

// Forward states beyond proc's, as ps shows a forward that ended itself.
const (
	StateIdleStopped = "idle-stopped" // idle-timeout passed with no open connection
	StateExpired     = "expired"      // max-age passed
)

// lifetime ends a forward by itself: after idleTimeout with no open connection (an open
// connection keeps it alive however quiet), or maxAge after it started, whatever the use.
// Zero durations never end it. Its methods are safe for concurrent use.
type lifetime struct {
	idleTimeout, maxAge time.Duration
	active              func() int                 // open connections now
	end                 func(state, reason string) // called at most once

	mu    sync.Mutex
	idle  *time.Timer
	age   *time.Timer
	ended bool
}

// start arms the timers; the idle one runs from now, as no connection is open yet.
func (l *lifetime) start() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.maxAge > 0 {
		l.age = time.AfterFunc(l.maxAge, func() {
			l.finish(StateExpired, fmt.Sprintf("max-age %v reached", l.maxAge))
		})
	}
	l.rearmLocked()
}

// changed is told of every change in the number of open connections.
func (l *lifetime) changed() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rearmLocked()
}

// rearmLocked runs the idle timer while no connection is open and stops it otherwise. It reads
// the count itself, so changes reported out of order still leave the right state.
func (l *lifetime) rearmLocked() {
	if l.idleTimeout <= 0 || l.ended {
		return
	}
	if l.idle != nil {
		l.idle.Stop()
		l.idle = nil
	}
	if l.active() > 0 {
		return
	}
	l.idle = time.AfterFunc(l.idleTimeout, func() {
		l.mu.Lock()
		busy := l.active() > 0
		l.mu.Unlock()
		if !busy {
			l.finish(StateIdleStopped, fmt.Sprintf("idle-timeout %v passed with no open connection", l.idleTimeout))
		}
	})
}

func (l *lifetime) finish(state, reason string) {
	l.mu.Lock()
	if l.ended {
		l.mu.Unlock()
		return
	}
	l.ended = true
	l.mu.Unlock()
	l.end(state, reason)
}

// stop disarms the timers: the forward ended some other way.
func (l *lifetime) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ended = true
	for _, t := range []*time.Timer{l.idle, l.age} {
		if t != nil {
			t.Stop()
		}
	}
}
