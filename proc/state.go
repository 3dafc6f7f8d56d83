package proc

import "time"

// State is where a Process is in its life.
type State string

const (
	Starting   State = "starting"   // first attempt: preparing, starting, or waiting for the Ready check
	Running    State = "running"    // started, no Ready check
	Ready      State = "ready"      // Ready check passed
	Restarting State = "restarting" // after an exit or failure: backoff, preparing, starting or checking again
	Failed     State = "failed"     // gave up; Reason and LastLines say why (terminal)
	Exited     State = "exited"     // the child finished by itself and no restart was due (terminal)
	Stopped    State = "stopped"    // stopped by Stop or Shutdown (terminal)
)

// Terminal reports whether a Process in state s is finished for good.
func (s State) Terminal() bool {
	return s == Failed || s == Exited || s == Stopped
}

// Info is a snapshot of a Process. It is a copy: the caller owns it.
type Info struct {
	ID          int64
	PID         int // current child, 0 when none is running
	Name        string
	Kind        string
	Argv        []string // the argv of the latest attempt (from Prepare, if set)
	State       State
	Since       time.Time // when State began
	Started     time.Time // first child started; zero until then
	Ended       time.Time // reached a terminal state; zero until then
	Restarts    int       // children started after the first one
	Attempt     int       // consecutive failed attempts (reset by a run lasting StableAfter)
	NextRestart time.Time // while Restarting in backoff: when the next attempt starts
	ExitCode    int       // of the latest child to exit; -1 if killed by a signal
	ExitDesc    string    // of the latest child to exit, e.g. "exit status 1", "signal: killed"
	Reason      string    // latest failure, e.g. "exit status 1", "ready check failed: …"
	LastLines   []Line    // the last lines of the ring, filled for Failed and Exited
	// Listed: List shows it. A live process is listed; so is one that ended in a way people
	// should see (Failed, or stopped by StopBecause) until it is Stopped or Retain expires.
	Listed bool
}

// lastLinesInInfo is how many lines Info.LastLines carries.
const lastLinesInInfo = 10
