//go:build !linux

package agent

import (
	"context"
	"net"
	"slices"
	"strings"
	"time"
)

// netPollInterval is how often the interfaces are looked at where no change notices come.
const netPollInterval = 3 * time.Second

// addressPoller notices a change in the set of interface addresses between two looks.
type addressPoller struct{ last string }

func openNetEvents() (netEvents, error) { return &addressPoller{last: addressSet()}, nil }

func (a *addressPoller) next(ctx context.Context, d time.Duration) bool {
	var until <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		until = t.C
	}
	tick := time.NewTicker(min(netPollInterval, max(d, time.Millisecond)))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-until:
			return false
		case <-tick.C:
		}
		if now := addressSet(); now != a.last {
			a.last = now
			return true
		}
	}
}

func (a *addressPoller) close() {}

func addressSet() string {
	addrs, _ := net.InterfaceAddrs()
	s := make([]string, 0, len(addrs))
	for _, a := range addrs {
		s = append(s, a.String())
	}
	slices.Sort(s)
	return strings.Join(s, " ")
}
