package agent

import (
	"fmt"
	"time"
)

// How the agent looks for a resume from suspend.
const (
	wakeCheckEvery = 2 * time.Second
	wakeSlack      = 5 * time.Second // more than this between the clocks' moves is a sleep
)

// watchWake retries the forwards when the machine wakes from suspend: a laptop whose lid was
// closed should not wait out a long backoff to get its forwards back.
func (a *Agent) watchWake() {
	d := newWakeDetector(readClocks(), wakeSlack)
	t := time.NewTicker(wakeCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-t.C:
		}
		if slept, woke := d.check(); woke {
			a.worldChanged(fmt.Sprintf("the machine woke up after about %v asleep", slept.Round(time.Second)))
		}
	}
}

// startWatchingNet retries the forwards when the network changes (a VPN comes up, Wi-Fi
// changes). It opens what it watches with at once, so the agent's descriptors are all there
// when Start returns.
func (a *Agent) startWatchingNet() {
	ev, err := openNetEvents()
	if err != nil {
		a.log.WithError(err).Warn("not watching the network; forwards retry on their own schedule")
		return
	}
	if !a.gs.Go(func() {
		defer ev.close()
		_ = watchNetworkWith(a.ctx, ev, func() { a.worldChanged("the network changed") })
	}) {
		ev.close()
	}
}

func (a *Agent) worldChanged(why string) {
	a.log.Infof("%s: retrying reconnecting forwards and checking ready ones now", why)
	a.forwards.RetryAll(why)
}
