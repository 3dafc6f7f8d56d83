package agent

import (
	"github.com/rhizome-dev/rhizome/forward"
	"github.com/rhizome-dev/rhizome/proc"
	"github.com/rhizome-dev/rhizome/rpc"
)

func (a *Agent) toProcess(i proc.Info) rpc.Process {
	p := rpc.Process{
		ID: i.ID, PID: i.PID, Name: i.Name, Kind: i.Kind, State: string(i.State),
		Started: i.Started, Restarts: i.Restarts, Attempt: i.Attempt, Reason: i.Reason, Exit: i.ExitDesc,
	}
	if i.State == proc.Restarting && !i.NextRestart.IsZero() {
		t := i.NextRestart
		p.NextRestart = &t
	}
	if i.State == proc.Failed {
		p.LastLines = toLogLines(i.LastLines)
	}
	if i.Kind == forward.Kind || i.Kind == forward.KindSimulated {
		if i.State == proc.Restarting {
			p.State = "reconnecting" // what a restart means to someone holding the handle
		}
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
