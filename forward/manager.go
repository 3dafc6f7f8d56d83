package forward

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rhizome-dev/rhizome/env"
	"github.com/rhizome-dev/rhizome/proc"
)

// Options tune every forward a Manager starts. The zero value works.
type Options struct {
	// Executable runs the simulated forward ("Executable _simulate-forward …").
	Executable string
	// HealthInterval is how often a ready forward is checked end to end; default 10 s.
	HealthInterval time.Duration
	// Restart is the policy for reconnecting; the zero value means DefaultRestart.
	Restart proc.RestartPolicy
	// KubectlTimeout bounds each kubectl logs and exec of the chain; default 30 s.
	KubectlTimeout time.Duration
	// SimulateAll makes every forward simulated (the agent ran with RHIZOME_SIMULATE=true).
	SimulateAll bool
}

// DefaultRestart reconnects after any exit, backing off from half a second to 15 s, and gives
// up after 8 failed attempts in a row (about a minute of trying).
var DefaultRestart = proc.RestartPolicy{
	Always:      true,
	MaxFailures: 8,
	MinBackoff:  500 * time.Millisecond,
	MaxBackoff:  15 * time.Second,
	Jitter:      0.2,
	StableAfter: 30 * time.Second,
}

// Process kinds of forwards, as ps shows them.
const (
	Kind          = "forward"
	KindSimulated = "simulated-forward"
)

// firstTries is how many failed attempts a new forward gets before Forward gives up and
// reports why: a typo in a name fails fast instead of retrying for a minute.
const firstTries = 2

// Manager owns the live forwards and shares each among all who ask for the same instance.
// It is safe for concurrent use.
type Manager struct {
	sup  *proc.Supervisor
	opts Options

	mu       sync.Mutex
	forwards map[key]*entry // guarded by mu; terminal entries are swept on the next Forward
}

// entry is one forward: its process, its handle, and how its first start is going.
type entry struct {
	proc   *proc.Process
	handle Handle

	mu        sync.Mutex
	everReady bool
	failures  int
	firstErr  error
	gaveUp    chan struct{} // closed when the first start failed for good
}

// NewManager returns a Manager that starts forwards under sup.
func NewManager(sup *proc.Supervisor, opts Options) *Manager {
	if opts.HealthInterval == 0 {
		opts.HealthInterval = 10 * time.Second
	}
	if opts.KubectlTimeout == 0 {
		opts.KubectlTimeout = 30 * time.Second
	}
	if opts.Restart == (proc.RestartPolicy{}) {
		opts.Restart = DefaultRestart
	}
	return &Manager{sup: sup, opts: opts, forwards: map[key]*entry{}}
}

// Forward returns the handle of a ready forward for r, starting one if none runs. Equal
// requests, concurrent or not, share one forward and one kubectl port-forward.
func (m *Manager) Forward(ctx context.Context, r Request) (Handle, error) {
	if m.opts.SimulateAll {
		r.Simulate = true
	}
	r.LocalPort = r.localPort()
	if len(r.ConnectCommand) == 0 {
		r.ConnectCommand = env.DefaultConnectCommand
	}
	if err := r.validate(); err != nil {
		return Handle{}, err
	}
	e, err := m.entryFor(r)
	if err != nil {
		return Handle{}, err
	}
	if r.PinPort && e.handle.LocalPort != r.LocalPort {
		return Handle{}, fmt.Errorf("%w: %s is already forwarded on port %d: use that, or stop it first to pin %d",
			ErrPortInUse, r.SQLConnection, e.handle.LocalPort, r.LocalPort)
	}
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-e.gaveUp:
			cancel()
		case <-waitCtx.Done():
		}
	}()
	if err := e.proc.WaitReady(waitCtx); err != nil {
		if first := e.firstError(); first != nil {
			return Handle{}, fmt.Errorf("%w: %v", ErrFailed, first)
		}
		if ctx.Err() != nil {
			return Handle{}, ctx.Err()
		}
		return Handle{}, fmt.Errorf("%w: %v", ErrFailed, err)
	}
	return e.handle, nil
}

// entryFor finds the live forward for r or starts one.
func (m *Manager) entryFor(r Request) (*entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked()
	if e := m.forwards[r.key()]; e != nil {
		return e, nil
	}
	spec, c, err := m.spec(r)
	if err != nil {
		return nil, err
	}
	port, err := pickPort(r.LocalPort, r.PinPort, m.takenLocked)
	if err != nil {
		return nil, err
	}
	c.localPort = port
	e := &entry{handle: newHandle(port, r), gaveUp: make(chan struct{})}
	e.watch(&spec)
	pr, err := m.sup.Start(context.Background(), spec)
	if err != nil {
		// %w twice: callers can still tell proc's limit or shutdown from a failed chain.
		return nil, fmt.Errorf("%w: %w", ErrFailed, err)
	}
	e.proc = pr
	m.forwards[r.key()] = e
	return e, nil
}

// spec builds the process for r: the real chain, or the simulation.
func (m *Manager) spec(r Request) (proc.Spec, *chain, error) {
	name := r.Name
	if name == "" {
		name = r.SQLConnection
	}
	c := &chain{req: r, distrusted: map[int]bool{}}
	spec := proc.Spec{
		Name: name, Kind: Kind,
		Ready:          c.ready,
		Health:         c.health,
		HealthInterval: m.opts.HealthInterval,
		Restart:        m.opts.Restart,
	}
	if r.Simulate {
		spec.Kind = KindSimulated
		spec.Prepare = func(context.Context, *proc.Process) ([]string, error) {
			return simulatedArgv(m.opts.Executable, r, c.localPort), nil
		}
		return spec, c, nil
	}
	path, err := findKubectl()
	if err != nil {
		return spec, nil, err
	}
	re, err := compilePattern(r.PortPattern, r.SQLConnection)
	if err != nil {
		return spec, nil, err
	}
	c.k = kubectl{path: path, kubeconfig: r.Kubeconfig, context: r.Context, namespace: r.Namespace, timeout: m.opts.KubectlTimeout}
	c.re = re
	spec.Prepare = c.prepare
	spec.Env = c.k.env()
	return spec, c, nil
}

// watch wraps spec's hooks to learn how the first start goes: after firstTries failures before
// the forward was ever ready, the process gives up (state failed) and Forward reports why.
func (e *entry) watch(spec *proc.Spec) {
	prepare, ready := spec.Prepare, spec.Ready
	spec.Prepare = func(ctx context.Context, p *proc.Process) ([]string, error) {
		argv, err := prepare(ctx, p)
		if err != nil {
			e.failed(p, err)
		}
		return argv, err
	}
	spec.Ready = func(ctx context.Context, p *proc.Process) error {
		err := ready(ctx, p)
		if err != nil {
			e.failed(p, err)
		} else {
			e.mu.Lock()
			e.everReady = true
			e.mu.Unlock()
		}
		return err
	}
}

func (e *entry) failed(p *proc.Process, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.everReady || e.firstErr != nil {
		return
	}
	e.failures++
	if e.failures < firstTries {
		return
	}
	e.firstErr = err
	close(e.gaveUp)
	// Failed, not Stopped, so ps keeps it with the reason and its last lines. Not from this
	// hook: GiveUp waits for it.
	go func() { _ = p.GiveUp(context.Background(), err.Error()) }()
}

func (e *entry) firstError() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.firstErr
}

func (m *Manager) sweepLocked() {
	for k, e := range m.forwards {
		if e.proc.Info().State.Terminal() {
			delete(m.forwards, k)
		}
	}
}

// takenLocked reports ports held by live forwards, which are free on the host only while
// their forward reconnects.
func (m *Manager) takenLocked(port int) bool {
	for _, e := range m.forwards {
		if e.handle.LocalPort == port {
			return true
		}
	}
	return false
}

// HandleOf returns the handle of the forward running as process id, for ps.
func (m *Manager) HandleOf(id int64) (Handle, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.forwards {
		if e.proc.ID() == id {
			return e.handle, true
		}
	}
	return Handle{}, false
}
