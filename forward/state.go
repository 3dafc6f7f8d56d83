package forward

import (
	"github.com/rhizome-dev/rhizome/env"
	"github.com/rhizome-dev/rhizome/forward/door"
	"github.com/rhizome-dev/rhizome/proc"
)

// States of a forward as ps shows them, beyond proc's own.
const (
	StateReconnecting = "reconnecting" // a restart, as it looks to someone holding the handle
	StateNeedsLogin   = "needs-login"  // reconnecting, but the credentials need a login first
	StateIdleStopped  = "idle-stopped" // idle-timeout passed with no open connection
	StateExpired      = "expired"      // max-age passed
)

// Status is what ps shows of a forward beyond its process.
type Status struct {
	Handle  Handle
	Traffic door.Traffic
	// State is the forward's state as people see it (proc's, or one of the above).
	State string
	// Fix says what to do about the latest failure, when its message is a known one.
	Fix string
}

func (e *entry) status() Status {
	info := e.proc.Info()
	st := Status{Handle: e.handle, Traffic: e.door.Traffic(), State: e.shownState(info.State)}
	e.mu.Lock()
	defer e.mu.Unlock()
	if last := e.latestFailureLocked(); last != nil && (info.State == proc.Restarting || info.State == proc.Failed) {
		st.Fix = last.fix
	}
	return st
}

// shownState is the forward's state as people see it, when its process is in state ps.
func (e *entry) shownState(ps proc.State) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	last := e.latestFailureLocked()
	switch {
	case ps == proc.Stopped && e.endState != "":
		return e.endState
	case ps == proc.Restarting && last != nil && last.kind == env.NeedsLogin:
		return StateNeedsLogin
	case ps == proc.Restarting && !e.everReady:
		return string(proc.Starting) // still its first start, trying again
	case ps == proc.Restarting:
		return StateReconnecting
	}
	return string(ps)
}

func (e *entry) latestFailureLocked() *failure {
	if e.firstErr != nil {
		return e.firstErr
	}
	return e.last
}
