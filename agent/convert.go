package agent

import (
	"github.com/rhizome-dev/rhizome/forward"
	"github.com/rhizome-dev/rhizome/proc"
	"github.com/rhizome-dev/rhizome/rpc"
)

func (a *Agent) toProcess(i proc.Info) rpc.Process {
	p := rpc.Process{
		ID: i.ID, PID: i.PID, Name: i.Name, Kind: i.Kind, State: string(i.State), Since: i.Since,
		Restarts: i.Restarts, Attempt: i.Attempt, Reason: i.Reason, Exit: i.ExitDesc,
	}
	if !i.Started.IsZero() {
		t := i.Started
		p.Started = &t
	}
	if i.State == proc.Restarting && !i.NextRestart.IsZero() {
		t := i.NextRestart
		p.NextRestart = &t
	}
	if i.State == proc.Failed {
		p.LastLines = toLogLines(i.LastLines)
	}
	if isForward(i.Kind) {
		if st, ok := a.forwards.StatusOf(i.ID); ok {
			h, t := toHandle(st.Handle), toTraffic(st.Traffic)
			p.Handle, p.Traffic, p.State, p.Fix = &h, &t, st.State, st.Fix
		}
	}
	return p
}

func isForward(kind string) bool { return kind == forward.Kind || kind == forward.KindSimulated }

func (a *Agent) toStateChange(c proc.StateChange) rpc.StateChange {
	ch := rpc.StateChange{
		Time: c.Time, ID: c.ID, PID: c.PID, Name: c.Name, Kind: c.Kind,
		State: string(c.State), Reason: c.Reason, Exit: c.Exit,
	}
	if isForward(c.Kind) {
		// As ps shows it: reconnecting, needs-login, idle-stopped, expired.
		if st, ok := a.forwards.StateOf(c.ID, c.State); ok {
			ch.State = st
		}
	}
	return ch
}

func toLogLines(lines []proc.Line) []rpc.LogLine {
	out := make([]rpc.LogLine, len(lines))
	for i, l := range lines {
		out[i] = rpc.LogLine{Time: l.Time, ID: l.ID, PID: l.PID, Name: l.Name, Stream: streamName(l.Stream), Text: l.Text}
	}
	return out
}

func streamName(s proc.Stream) string {
	switch s {
	case proc.Stdout:
		return rpc.StreamStdout
	case proc.Stderr:
		return rpc.StreamStderr
	default:
		return rpc.StreamEvent
	}
}
