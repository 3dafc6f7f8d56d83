package forward

import (
	"fmt"
	"slices"
	"time"
)

// retune applies to a live forward what r asks differently and can change live (its
// idle-timeout, max-age and connect-wait; a zero duration asks nothing), and returns a note
// for each change and for each difference that needs the forward stopped first.
func (e *entry) retune(r Request) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var notes []string
	name := r.label()
	if d := r.ConnectWait; d > 0 && d != e.door.ConnectWait() {
		notes = append(notes, fmt.Sprintf("%s: connect-wait is now %v (was %v)", name, d, e.door.ConnectWait()))
		e.door.SetConnectWait(d)
	}
	idle, maxAge := e.life.settings()
	if d := r.IdleTimeout; d > 0 && d != idle {
		notes = append(notes, fmt.Sprintf("%s: idle-timeout is now %v (was %s)", name, d, never(idle)))
		idle = d
	}
	if d := r.MaxAge; d > 0 && d != maxAge {
		notes = append(notes, fmt.Sprintf("%s: max-age is now %v from its start at %s (was %s)", name, d, e.start.Format(time.TimeOnly), never(maxAge)))
		maxAge = d
	}
	e.life.set(idle, maxAge, e.start)
	if len(r.PasswordCommand) > 0 && !sameLogin(r, e.req) {
		notes = append(notes, fmt.Sprintf("%s: the door now logs in as %q with password-command %v (password-ttl %v)", name, r.User, r.PasswordCommand, r.PasswordTTL))
		e.door.SetLogin(loginOf(r))
		e.req.User, e.req.PasswordCommand, e.req.PasswordTTL = r.User, r.PasswordCommand, r.PasswordTTL
	}
	live := e.req
	for _, d := range []struct {
		what      string
		differs   bool
		was, asks any
	}{
		{"connect-command", len(r.ConnectCommand) > 0 && !slices.Equal(r.ConnectCommand, live.ConnectCommand), live.ConnectCommand, r.ConnectCommand},
		{"port-pattern", r.PortPattern != "" && r.PortPattern != live.PortPattern, live.PortPattern, r.PortPattern},
		{"pod-port", r.PodPort != 0 && r.PodPort != live.PodPort, live.PodPort, r.PodPort},
	} {
		if d.differs {
			notes = append(notes, fmt.Sprintf("%s: %s %v not applied: the live forward uses %v; rhizome stop %s, then ask again", name, d.what, d.asks, d.was, name))
		}
	}
	return notes
}

func never(d time.Duration) string {
	if d <= 0 {
		return "never"
	}
	return d.String()
}

// sameLogin reports whether a and b ask the door for the same login.
func sameLogin(a, b Request) bool {
	return a.User == b.User && a.PasswordTTL == b.PasswordTTL && slices.Equal(a.PasswordCommand, b.PasswordCommand)
}
