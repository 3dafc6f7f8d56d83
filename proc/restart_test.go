package proc

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name     string
		pol      RestartPolicy
		failures int
		u        float64
		want     time.Duration
	}{
		{name: "first", pol: RestartPolicy{MinBackoff: 10 * ms, MaxBackoff: time.Second}, failures: 1, u: 0.5, want: 10 * ms},
		{name: "doubles", pol: RestartPolicy{MinBackoff: 10 * ms, MaxBackoff: time.Second}, failures: 3, u: 0.5, want: 40 * ms},
		{name: "capped", pol: RestartPolicy{MinBackoff: 10 * ms, MaxBackoff: 100 * ms}, failures: 10, u: 0.5, want: 100 * ms},
		{name: "no overflow", pol: RestartPolicy{MinBackoff: 10 * ms, MaxBackoff: 100 * ms}, failures: 1000, u: 0.5, want: 100 * ms},
		{name: "jitter low", pol: RestartPolicy{MinBackoff: 100 * ms, MaxBackoff: time.Second, Jitter: 0.2}, failures: 1, u: 0, want: 80 * ms},
		{name: "jitter high", pol: RestartPolicy{MinBackoff: 100 * ms, MaxBackoff: time.Second, Jitter: 0.2}, failures: 1, u: 1, want: 120 * ms},
		{name: "defaults", pol: RestartPolicy{}, failures: 1, u: 0.5, want: defaultMinBackoff},
		{name: "default max", pol: RestartPolicy{}, failures: 100, u: 0.5, want: defaultMaxBackoff},
		{name: "max below min", pol: RestartPolicy{MinBackoff: time.Second, MaxBackoff: ms}, failures: 3, u: 0.5, want: time.Second},
	}
	for _, tt := range tests {
		if got := tt.pol.backoff(tt.failures, tt.u); got != tt.want {
			t.Errorf("%s: backoff(%d, %v) = %v, want %v", tt.name, tt.failures, tt.u, got, tt.want)
		}
	}
}
