package agent

import (
	"context"
	"fmt"
	"strconv"

	"github.com/rhizome-dev/rhizome/proc"
	"github.com/rhizome-dev/rhizome/rpc"
)

// SleeperCommand is the hidden subcommand of the rhizome binary that runs the sleeper itself, so
// the sleeper needs no Python or other runtime.
const SleeperCommand = "_sleeper"

// Sleeper implements rpc.Service: it starts the seed's test process, which prints 0 to 4.
func (a *Agent) Sleeper(ctx context.Context, p rpc.SleeperParams) (rpc.Started, error) {
	if p.Interval < 0 || p.Interval > 3600 {
		return rpc.Started{}, rpc.InvalidParams("interval %v out of range: want 0 to 3600 seconds", p.Interval)
	}
	spec := proc.Spec{Name: "sleeper", Kind: "sleeper", Argv: []string{a.cfg.Executable, SleeperCommand}}
	interval := p.Interval
	if interval == 0 {
		interval = a.cfg.SleeperInterval.Seconds()
	}
	if interval > 0 {
		spec.Env = []string{"SLEEP_OVERRIDE=" + strconv.FormatFloat(interval, 'f', -1, 64)}
	}
	pr, err := a.sup.Start(ctx, spec)
	if err != nil {
		return rpc.Started{}, fmt.Errorf("starting sleeper: %w", mapProcErr(err))
	}
	info := pr.Info()
	return rpc.Started{ID: info.ID, PID: info.PID, Name: info.Name}, nil
}
