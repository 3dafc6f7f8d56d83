package door

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// refusalLogEvery is how often at most a forward logs the connections it refused: another
// user can cause refusals as fast as they can connect, and one line each would flood the
// owner's logfile and rotate its history away.
const refusalLogEvery = 10 * time.Second

// maxRefusalUIDs bounds the uids a summary names, the busiest first; the rest are summed as
// "other uids". At most maxTrackedUIDs are counted apart between two summaries.
const (
	maxRefusalUIDs = 16
	maxTrackedUIDs = 1024
)

// uidUnknown stands for a peer whose uid could not be told (the check refused it anyway).
const uidUnknown = -1

// refusals turns refused connections into log lines: the first one of a quiet spell is logged
// at once, with its reason; those that follow within refusalLogEvery are summed up in one line
// at the end of it, with their count and uids. Its methods are safe for concurrent use; close
// writes what is pending and stops it.
type refusals struct {
	owner int
	logf  func(format string, args ...any)
	every time.Duration // refusalLogEvery; shorter in tests

	mu      sync.Mutex
	last    time.Time   // when a line was last written
	pending int         // refusals since then, not yet logged
	uids    map[int]int // pending refusals by uid (uidUnknown: could not tell)
	others  int         // pending refusals from uids past maxTrackedUIDs
	why     string      // the first pending "could not tell" reason
	timer   *time.Timer // armed while refusals are pending
	closed  bool
}

// add records one refused connection from uid (uidUnknown with why when it could not be told)
// at peer.
func (r *refusals) add(uid int, peer, why string) {
	r.mu.Lock()
	now := time.Now()
	if r.closed || (r.pending == 0 && now.Sub(r.last) >= r.every) {
		r.last = now
		r.mu.Unlock()
		r.logf("%s", r.first(uid, peer, why))
		return
	}
	r.pending++
	if r.uids == nil {
		r.uids = map[int]int{}
	}
	if _, seen := r.uids[uid]; seen || len(r.uids) < maxTrackedUIDs {
		r.uids[uid]++
	} else {
		r.others++
	}
	if uid == uidUnknown && r.why == "" {
		r.why = why
	}
	if r.timer == nil {
		r.timer = time.AfterFunc(r.every-now.Sub(r.last), r.flush)
	}
	r.mu.Unlock()
}

// first is the line for a refusal logged on its own.
func (r *refusals) first(uid int, peer, why string) string {
	if uid == uidUnknown {
		return fmt.Sprintf("front door: refused a connection from %s: cannot tell whose it is: %s", peer, why)
	}
	return fmt.Sprintf("front door: refused a connection from uid %d (%s): only uid %d may use this forward", uid, peer, r.owner)
}

// flush logs the pending refusals in one line.
func (r *refusals) flush() {
	r.mu.Lock()
	line := r.summaryLocked()
	r.mu.Unlock()
	if line != "" {
		r.logf("%s", line)
	}
}

// summaryLocked returns the line for the pending refusals and resets them; "" when none.
func (r *refusals) summaryLocked() string {
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	if r.pending == 0 {
		return ""
	}
	var from []string
	others := r.others
	for i, uid := range slices.SortedFunc(maps.Keys(r.uids), func(a, b int) int {
		return cmp.Or(cmp.Compare(r.uids[b], r.uids[a]), cmp.Compare(a, b))
	}) {
		if i >= maxRefusalUIDs {
			others += r.uids[uid]
			continue
		}
		who := fmt.Sprintf("uid %d", uid)
		if uid == uidUnknown {
			who = "unknown"
		}
		from = append(from, fmt.Sprintf("%s ×%d", who, r.uids[uid]))
	}
	if others > 0 {
		from = append(from, fmt.Sprintf("other uids ×%d", others))
	}
	line := fmt.Sprintf("front door: refused %d more connection%s in %v (%s): only uid %d may use this forward",
		r.pending, map[bool]string{true: "s"}[r.pending != 1], time.Since(r.last).Round(time.Second), strings.Join(from, ", "), r.owner)
	if r.why != "" {
		line += "; unknown: " + r.why
	}
	r.last, r.pending, r.uids, r.others, r.why = time.Now(), 0, nil, 0, ""
	return line
}

// close logs what is pending; later refusals are logged one by one (there are none once the
// door's listeners are closed).
func (r *refusals) close() {
	r.mu.Lock()
	r.closed = true
	line := r.summaryLocked()
	r.mu.Unlock()
	if line != "" {
		r.logf("%s", line)
	}
}
