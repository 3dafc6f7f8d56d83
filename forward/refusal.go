package forward

import (
	"fmt"
	"strings"

	"github.com/rhizome-dev/rhizome/forward/engine/wire"
	"github.com/rhizome-dev/rhizome/proc"
)

// refusal is what the door tells a client it cannot serve, in the client's protocol: the
// forward's name, state and reason, and the fix, as ps says them, e.g. "rhizome:
// na-prod/bookkeeper is reconnecting (attempt 7): the API server … does not answer" with
// the hint "check your network or VPN".
func (e *entry) refusal() wire.Refusal {
	info := e.proc.Info()
	state := e.shownState(info.State)
	e.mu.Lock()
	last := e.latestFailureLocked()
	e.mu.Unlock()
	r := wire.Refusal{Message: "rhizome: " + e.req.label() + " " + statePhrase(state)}
	if info.Attempt > 0 && !info.State.Terminal() {
		r.Message += fmt.Sprintf(" (attempt %d)", info.Attempt)
	}
	reason := info.Reason
	if last != nil && !info.State.Terminal() {
		reason, r.Hint = last.err.Error(), last.fix
	}
	// A known failure's fix says what happened in words (the API server of … does not answer:
	// check your network or VPN); the raw reason, often a long kubectl error, is only for
	// failures without one, and cut to what a client shows whole.
	if reason, _, _ = strings.Cut(reason, "\n"); r.Hint == "" && reason != "" && reason != state {
		if len(reason) > maxRefusalReason {
			reason = reason[:maxRefusalReason] + "… (rhizome ps shows it all)"
		}
		r.Message += ": " + reason
	}
	switch state {
	case string(proc.Starting), StateReconnecting, string(proc.Running), string(proc.Restarting):
		r.Transient = true
		if r.Hint == "" {
			r.Hint = "it reconnects by itself; rhizome ps shows how it goes"
		}
	case StateNeedsLogin, string(proc.Failed):
		// r.Hint is the fix env.Diagnose found, when it knows one.
	default: // stopped, idle-stopped, expired: only a new request brings it back
		r.Hint = "start it again with: " + e.req.startCommand()
	}
	return r
}

// maxRefusalReason bounds the reason in a refusal: MySQL clients show at most 512 bytes.
const maxRefusalReason = 200

// statePhrase says a forward's state in a sentence: "is reconnecting", "needs a login".
func statePhrase(state string) string {
	switch state {
	case StateNeedsLogin:
		return "needs a login"
	case string(proc.Failed):
		return "failed"
	case string(proc.Stopped):
		return "was stopped"
	case StateIdleStopped:
		return "was stopped by its idle-timeout"
	case StateExpired:
		return "was stopped by its max-age"
	}
	return "is " + state
}

// startCommand is the command that asks for r again: rhizome forward ENV DB for a forward
// named after its environment and database.
func (r Request) startCommand() string {
	if envName, db, ok := strings.Cut(r.Name, "/"); ok {
		return "rhizome forward " + envName + " " + db
	}
	return "rhizome forward (with the same request)"
}
