package agent

import (
	"testing"
	"time"
)

// TestWakeDetector drives the detector with made-up clocks: steady ticks are no wake, a wall
// clock that ran ten minutes ahead of the monotonic one is.
func TestWakeDetector(t *testing.T) {
	wall := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var mono time.Duration
	d := newWakeDetector(func() clockReading { return clockReading{wall, mono} }, 5*time.Second)
	step := func(wallBy, monoBy time.Duration) (time.Duration, bool) {
		wall, mono = wall.Add(wallBy), mono+monoBy
		return d.check()
	}
	for i := range 5 {
		if slept, woke := step(2*time.Second, 2*time.Second+time.Duration(i)*time.Millisecond); woke {
			t.Fatalf("tick %d: woke after %v, want no wake on steady clocks", i, slept)
		}
	}
	if slept, woke := step(10*time.Minute+2*time.Second, 2*time.Second); !woke || slept != 10*time.Minute {
		t.Errorf("after a 10 min suspend: check() = %v, %v; want 10m0s, true", slept, woke)
	}
	if _, woke := step(2*time.Second, 2*time.Second); woke {
		t.Errorf("the tick after the wake woke again")
	}
	if _, woke := step(-time.Hour, 2*time.Second); woke {
		t.Errorf("a wall clock set back counted as a wake")
	}
}
