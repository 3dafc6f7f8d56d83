package forward

import (
	"context"
	"time"

	"github.com/rhizome-dev/rhizome/proc"
)

// apiPollInterval is how often a reconnecting forward asks whether its API server answers.
const apiPollInterval = 2 * time.Second

// retryWhenAPIAnswers asks the API server, through the context's proxy, whether it answers
// (/readyz) every apiPollInterval while the forward waits out a backoff, and retries at once
// when it answers again after it did not: a forward is back within seconds of its cluster,
// whatever the outage's length and the backoff it reached. It returns when pr ends.
func (c *chain) retryWhenAPIAnswers(pr *proc.Process) {
	tick := time.NewTicker(apiPollInterval)
	defer tick.Stop()
	silent := false // the last ask went unanswered
	for {
		select {
		case <-pr.Done():
			return
		case <-tick.C:
		}
		if pr.Info().State != proc.Restarting {
			silent = false
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), apiPollInterval)
		err := c.proxy.Readyz(ctx)
		cancel()
		switch {
		case err != nil:
			silent = true
		case silent:
			silent = false
			pr.RetryNow("the API server of " + c.req.Context + " answers again")
		}
	}
}
