package forward

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestLifetime(t *testing.T) {
	type ending struct{ state, reason string }
	run := func(idle, age time.Duration, open int64) (*atomic.Int64, chan ending, *lifetime) {
		var active atomic.Int64
		active.Store(open)
		ended := make(chan ending, 2)
		l := &lifetime{idleTimeout: idle, maxAge: age,
			active: func() int { return int(active.Load()) },
			end:    func(state, reason string) { ended <- ending{state, reason} }}
		l.start()
		t.Cleanup(l.stop)
		return &active, ended, l
	}

	t.Run("idle with no connection", func(t *testing.T) {
		_, ended, _ := run(50*time.Millisecond, 0, 0)
		if e := <-ended; e.state != StateIdleStopped || e.reason != "idle-timeout 50ms passed with no open connection" {
			t.Errorf("ended %+v", e)
		}
	})
	t.Run("an open connection keeps it alive", func(t *testing.T) {
		active, ended, l := run(50*time.Millisecond, 0, 1)
		select {
		case e := <-ended:
			t.Fatalf("ended %+v with a connection open", e)
		case <-time.After(200 * time.Millisecond):
		}
		active.Store(0)
		l.changed()
		if e := <-ended; e.state != StateIdleStopped {
			t.Errorf("ended %+v after the last connection closed, want idle-stopped", e)
		}
	})
	t.Run("max-age whatever the use", func(t *testing.T) {
		_, ended, _ := run(time.Hour, 50*time.Millisecond, 3)
		if e := <-ended; e.state != StateExpired || e.reason != "max-age 50ms reached" {
			t.Errorf("ended %+v", e)
		}
	})
	t.Run("ends once, and never after stop", func(t *testing.T) {
		_, ended, l := run(20*time.Millisecond, 20*time.Millisecond, 0)
		<-ended
		l.stop()
		select {
		case e := <-ended:
			t.Errorf("ended a second time: %+v", e)
		case <-time.After(100 * time.Millisecond):
		}
	})
}
