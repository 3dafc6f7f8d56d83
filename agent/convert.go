package agent

import (
	"github.com/rhizome-dev/rhizome/forward"
	"github.com/rhizome-dev/rhizome/proc"
	"github.com/rhizome-dev/rhizome/rpc"
)

func (a *Agent) toProcess(i proc.Info) rpc.Process {
	p := rpc.Process{
		ID: i.ID, PID: i.PID, Name: i.Name, Kind: i.Kind, State: stateName(i.Kind, i.State),
		Started: i.Started, Restarts: i.Restarts, Attempt: i.Attempt, Reason: i.Reason, Exit: i.ExitDesc,
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
			p.Handle, p.Traffic = &h, &t
			if st.State != "" && i.State == proc.Stopped {
				p.State = st.State
			}
		}
	}
	return p
}

func isForward(kind string) bool { return kind == forward.Kind || kind == forward.KindSimulated }

// stateName is a state as ps and watchers show it.
func stateName(kind string, st proc.State) string {
	if st == proc.Restarting && isForward(kind) {
		return "reconnecting" // what a restart means to someone holding the handle
	}
	return string(st)
}

func (a *Agent) toStateChange(c proc.StateChange) rpc.StateChange {
	ch := rpc.StateChange{
		Time: c.Time, ID: c.ID, PID: c.PID, Name: c.Name, Kind: c.Kind,
		State: stateName(c.Kind, c.State), Reason: c.Reason, Exit: c.Exit,
	}
	if isForward(c.Kind) && c.State == proc.Stopped {
		// A forward that ended itself (idle-stopped, expired) says so, as in ps.
		if st, ok := a.forwards.StatusOf(c.ID); ok && st.State != "" {
			ch.State = st.State
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
