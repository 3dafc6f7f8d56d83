package proc

import (
	"math/rand/v2"
	"time"
)

// RestartPolicy says when a Process starts another child. Its zero value
// never restarts: the child runs once and its exit ends the Process.
//
// An attempt fails when its child exits with a non-zero status or a signal,
// when Prepare or Ready returns an error, when Health fails, or when the exec
// fails. With Always, an exit with status 0 also counts as a failure: a
// process meant to run until stopped should not exit at all, and counting it
// gives a child that exits 0 at once the same backoff as a crash loop.
//
// A restart happens after an attempt when Always is set, or when the attempt
// failed and MaxFailures is not 0. After MaxFailures consecutive failures
// (when MaxFailures > 0) the Process gives up: state Failed.
//
//	Always  MaxFailures  after a failure            after exit status 0
//	false   0            ends (zero value)          ends (Exited)
//	false   n > 0        restart; Failed after n    ends (Exited)
//	false   < 0          restart forever            ends (Exited)
//	true    0 or < 0     restart forever            restart forever (the forward)
//	true    n > 0        restart; Failed after n    counts as a failure
//
// A process that ends without a restart is Exited if its last child exited by
// itself, and Failed if the last attempt failed in Prepare, exec, Ready or
// Health.
type RestartPolicy struct {
	// Always restarts after any exit, not only after failures.
	Always bool
	// MaxFailures is how many consecutive failed attempts end in Failed; see
	// the type's doc for 0 and negative values.
	MaxFailures int
	// MinBackoff and MaxBackoff bound the delay before attempt n+1 after n
	// consecutive failures: MinBackoff·2^(n-1), capped at MaxBackoff.
	// Defaults: 250ms and 30s.
	MinBackoff, MaxBackoff time.Duration
	// Jitter spreads each delay by ±Jitter of itself (0.2 = ±20%), so that
	// processes failing together do not retry together. Clamped to [0, 1].
	Jitter float64
	// StableAfter: a child that has run this long resets the failure count.
	// 0 never resets it.
	StableAfter time.Duration
}

const (
	defaultMinBackoff = 250 * time.Millisecond
	defaultMaxBackoff = 30 * time.Second
)

// restarts reports whether any restart can happen after an attempt that failed.
func (r RestartPolicy) restartsAfterFailure() bool {
	return r.Always || r.MaxFailures != 0
}

// givesUp reports whether failures consecutive failures end the Process.
func (r RestartPolicy) givesUp(failures int) bool {
	return r.MaxFailures > 0 && failures >= r.MaxFailures
}

// backoff returns the delay before the next attempt after failures
// consecutive failures; u is a uniform random number in [0, 1).
func (r RestartPolicy) backoff(failures int, u float64) time.Duration {
	lo, hi := r.MinBackoff, r.MaxBackoff
	if lo <= 0 {
		lo = defaultMinBackoff
	}
	if hi <= 0 {
		hi = max(lo, defaultMaxBackoff)
	}
	if hi < lo {
		hi = lo
	}
	d := lo
	for i := 1; i < failures && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	j := min(max(r.Jitter, 0), 1)
	return time.Duration(float64(d) * (1 + j*(2*u-1)))
}

// nextBackoff is backoff with a random jitter.
func (r RestartPolicy) nextBackoff(failures int) time.Duration {
	return r.backoff(failures, rand.Float64())
}
