package agent

import (
	"context"
	"time"
)

// netDebounce is how long a burst of network changes (an address, its routes, the link) may
// take to settle before the forwards are retried once for all of it.
const netDebounce = 500 * time.Millisecond

// netEvents tells of changes to the machine's network, one platform's way.
type netEvents interface {
	// next waits up to d (forever when d is 0) for a change and reports whether one came; it
	// returns false at once when ctx is done.
	next(ctx context.Context, d time.Duration) bool
	close()
}

// watchNetworkWith calls changed, once per burst, whenever ev tells of a change to the
// machine's network addresses or routes, until ctx ends. Linux hears of every change from the
// kernel (rtnetlink); other systems look at the interfaces' addresses every few seconds.
func watchNetworkWith(ctx context.Context, ev netEvents, changed func()) error {
	for ev.next(ctx, 0) {
		for ev.next(ctx, netDebounce) { // until quiet
		}
		if ctx.Err() != nil {
			return nil
		}
		changed()
	}
	return nil
}
