package door

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRefusalsAreSummedUpPerInterval: a burst of refusals within one interval makes one line at
// once (the first, with its uid) and one summary when the interval ends (here: at close), with
// the count and the uids, the most frequent first, and at most maxRefusalUIDs of them.
func TestRefusalsAreSummedUpPerInterval(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	r := &refusals{owner: 1000, every: time.Hour, logf: func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(format, args...))
	}}
	r.add(65534, "127.0.0.1:1", "")
	for i := range 3000 {
		switch {
		case i%3 == 0:
			r.add(uidUnknown, "127.0.0.1:2", "it was closed")
		case i < 100:
			r.add(2000+i, "127.0.0.1:3", "") // many uids: the summary names the busiest
		default:
			r.add(65534, "127.0.0.1:4", "")
		}
	}
	mu.Lock()
	if len(lines) != 1 || !strings.Contains(lines[0], "refused a connection from uid 65534 (127.0.0.1:1): only uid 1000 may use this forward") {
		t.Errorf("lines within the interval = %q, want only the first refusal's", lines)
	}
	mu.Unlock()
	r.close()
	if len(lines) != 2 {
		t.Fatalf("lines after close = %d (%q), want the first and one summary", len(lines), lines)
	}
	sum := lines[1]
	for _, want := range []string{"refused 3000 more connections", "uid 65534 ×1934", "unknown ×1000", "other uids ×", "unknown: it was closed"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary %q lacks %q", sum, want)
		}
	}
	if n := strings.Count(sum, "uid 2"); n > maxRefusalUIDs {
		t.Errorf("summary names %d uids, want at most %d", n, maxRefusalUIDs)
	}
	if len(sum) > 1024 {
		t.Errorf("summary is %d bytes, want a line", len(sum))
	}
}
