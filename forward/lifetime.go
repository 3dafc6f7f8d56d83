package forward

import (
	"fmt"
	"sync"
	"time"
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
	if maxAge := l.maxAge; maxAge > 0 {
		l.age = time.AfterFunc(maxAge, func() {
			l.finish(StateExpired, fmt.Sprintf("max-age %v reached", maxAge))
		})
	}
	l.rearmLocked()
}

// settings returns the idle-timeout and max-age in force.
func (l *lifetime) settings() (idle, maxAge time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.idleTimeout, l.maxAge
}

// set changes the idle-timeout and the max-age (counted from started) of a running lifetime:
// a max-age already past ends the forward now.
func (l *lifetime) set(idle, maxAge time.Duration, started time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return
	}
	if maxAge != l.maxAge {
		l.maxAge = maxAge
		if l.age != nil {
			l.age.Stop()
			l.age = nil
		}
		if maxAge > 0 {
			l.age = time.AfterFunc(max(0, time.Until(started.Add(maxAge))), func() {
				l.finish(StateExpired, fmt.Sprintf("max-age %v reached", maxAge))
			})
		}
	}
	if idle != l.idleTimeout {
		l.idleTimeout = idle
		if l.idle != nil && idle <= 0 {
			l.idle.Stop()
			l.idle = nil
		}
		l.rearmLocked()
	}
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
	idle := l.idleTimeout
	l.idle = time.AfterFunc(idle, func() {
		l.mu.Lock()
		busy := l.active() > 0
		l.mu.Unlock()
		if !busy {
			l.finish(StateIdleStopped, fmt.Sprintf("idle-timeout %v passed with no open connection", idle))
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
