package agent

import "time"

// clockReading is one look at the two clocks.
type clockReading struct {
	wall time.Time     // the wall clock, without Go's monotonic reading
	mono time.Duration // the monotonic clock, which stops while the machine sleeps
}

// readClocks returns a reader of both clocks since now; Linux's CLOCK_MONOTONIC and macOS's
// mach clock, which Go's monotonic readings use, do not advance during suspend.
func readClocks() func() clockReading {
	start := time.Now()
	return func() clockReading {
		now := time.Now()
		return clockReading{wall: now.Round(0), mono: now.Sub(start)}
	}
}

// wakeDetector notices a resume from suspend: between two looks, the wall clock moved further
// than the monotonic clock by more than slack. (A wall clock set forward by hand looks the
// same, and retrying the forwards then does no harm either.)
type wakeDetector struct {
	read  func() clockReading
	slack time.Duration
	last  clockReading
}

func newWakeDetector(read func() clockReading, slack time.Duration) *wakeDetector {
	return &wakeDetector{read: read, slack: slack, last: read()}
}

// check reports how long the machine slept since the last check, and whether it did.
func (w *wakeDetector) check() (time.Duration, bool) {
	now := w.read()
	slept := now.wall.Sub(w.last.wall) - (now.mono - w.last.mono)
	w.last = now
	return slept, slept > w.slack
}
