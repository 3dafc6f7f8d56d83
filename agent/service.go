package agent

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"

	"github.com/rhizome-dev/rhizome/proc"
	"github.com/rhizome-dev/rhizome/rpc"
)

var _ rpc.Service = (*Agent)(nil)

// Version implements rpc.Service.
func (a *Agent) Version(context.Context) (rpc.VersionResult, error) {
	return rpc.VersionResult{
		Version: a.cfg.Version, Protocol: rpc.ProtocolVersion, PID: os.Getpid(),
		Socket: a.cfg.Socket, Logfile: a.cfg.LogFile, Started: a.started, Warnings: a.warnings(),
		SimulatesAll: a.cfg.Simulate,
	}, nil
}

func (a *Agent) warnings() []string {
	if w := a.logfile.Warning(); w != "" {
		return []string{w}
	}
	return nil
}

// Ps implements rpc.Service.
func (a *Agent) Ps(context.Context) (rpc.PsResult, error) {
	infos := a.sup.List()
	r := rpc.PsResult{Running: make([]rpc.Process, 0, len(infos)), Count: len(infos), Warnings: a.warnings()}
	for _, info := range infos {
		r.Running = append(r.Running, a.toProcess(info))
	}
	return r, nil
}

// Stop implements rpc.Service: every live process matching the target is stopped, in
// parallel, each TERM then KILL after the grace period.
func (a *Agent) Stop(ctx context.Context, p rpc.StopParams) (rpc.StopResult, error) {
	if p.Target == "" {
		return rpc.StopResult{}, rpc.InvalidParams("stop needs a target: a pid or a name from `rhizome ps`")
	}
	var live []*proc.Process
	var before []rpc.Process // as they were, pids included; a stopped process has none
	for _, pr := range a.sup.Lookup(p.Target) {
		// Failed processes and forwards that stopped themselves are still listed: stopping
		// dismisses them.
		if info := pr.Info(); info.Listed {
			live = append(live, pr)
			before = append(before, a.toProcess(info))
		}
	}
	if len(live) == 0 {
		return rpc.StopResult{}, fmt.Errorf("%w: nothing running matches %q (see rhizome ps)", rpc.ErrNotFound, p.Target)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(live))
	for i, pr := range live {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = pr.Stop(ctx)
		}()
	}
	wg.Wait()
	r := rpc.StopResult{Stopped: make([]rpc.Process, 0, len(live))}
	for i, pr := range live {
		if errs[i] != nil {
			return r, fmt.Errorf("stopping %s: %w", pr.Info().Name, errs[i])
		}
		stopped := before[i]
		stopped.State = string(pr.Info().State)
		r.Stopped = append(r.Stopped, stopped)
	}
	return r, nil
}

// defaultLogLines is how many lines logs returns when the client does not say.
const defaultLogLines = 100

// Logs implements rpc.Service.
func (a *Agent) Logs(_ context.Context, p rpc.LogsParams) (rpc.LogsResult, error) {
	n := p.Lines
	if n <= 0 {
		n = defaultLogLines
	}
	var filter func(proc.Info) bool
	if p.Target != "" {
		ids := map[int64]bool{}
		for _, pr := range a.sup.Lookup(p.Target) {
			ids[pr.ID()] = true
		}
		if len(ids) == 0 {
			return rpc.LogsResult{}, fmt.Errorf("%w: no process, running or recently finished, matches %q", rpc.ErrNotFound, p.Target)
		}
		filter = func(i proc.Info) bool { return ids[i.ID] }
	}
	return rpc.LogsResult{Lines: toLogLines(a.sup.Logs(filter, n))}, nil
}

// lineFilter turns a subscription target into a filter on lines: a pid picks that process
// (across its restarts), a name picks every process of that name, now or later.
func (a *Agent) lineFilter(target string) (func(proc.Line) bool, error) {
	if target == "" {
		return nil, nil
	}
	if _, err := strconv.Atoi(target); err != nil {
		return func(l proc.Line) bool { return l.Name == target }, nil
	}
	matches := a.sup.Lookup(target)
	if len(matches) == 0 {
		return nil, fmt.Errorf("%w: no process with pid %s (see rhizome ps)", rpc.ErrNotFound, target)
	}
	id := matches[0].ID()
	return func(l proc.Line) bool { return l.ID == id }, nil
}

// wire is the Service the agent serves over its socket. It differs from the Agent's own in
// Shutdown: a client's shutdown only asks the daemon to shut down, because a graceful shutdown
// waits for the connection's requests, the asking one included.
type wire struct{ *Agent }

// Shutdown implements rpc.Service for clients.
func (w wire) Shutdown(context.Context) error {
	w.log.Info("shutdown requested by a client")
	w.requestShutdown()
	return nil
}
