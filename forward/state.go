package forward

import (
	"github.com/rhizome-dev/rhizome/env"
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
	Traffic Traffic
	// State is the forward's state as people see it (proc's, or one of the above).
	State string
	// Fix says what to do about the latest failure, when its message is a known one.
	Fix string
}

func (e *entry) status() Status {
	info := e.proc.Info()
	e.mu.Lock()
	defer e.mu.Unlock()
	st := Status{Handle: e.handle, Traffic: e.door.traffic(), State: string(info.State)}
	last := e.last
	if e.firstErr != nil {
		last = e.firstErr
	}
	switch {
	case info.State == proc.Stopped && e.endState != "":
		st.State = e.endState
	case info.State == proc.Restarting && last != nil && last.kind == env.NeedsLogin:
		st.State = StateNeedsLogin
	case info.State == proc.Restarting && !e.everReady:
		st.State = string(proc.Starting) // still its first start, trying again
	case info.State == proc.Restarting:
		st.State = StateReconnecting
	}
	if last != nil && (info.State == proc.Restarting || info.State == proc.Failed) {
		st.Fix = last.fix
	}
	return st
}
