package forward

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/rhizome-dev/rhizome/env"
	"github.com/rhizome-dev/rhizome/forward/door"
	"github.com/rhizome-dev/rhizome/forward/engine"
	"github.com/rhizome-dev/rhizome/forward/kube"
	"github.com/rhizome-dev/rhizome/proc"
)

// Options tune every forward a Manager starts. The zero value works.
type Options struct {
	// Executable runs the simulated forward ("Executable _simulate-forward …").
	Executable string
	// HealthInterval is how often a ready forward's chain is checked (a ping of its session,
	// never a connection to the database); default 10 s.
	HealthInterval time.Duration
	// Restart is the policy for reconnecting; the zero value means DefaultRestart.
	Restart proc.RestartPolicy
	// MaxBackoff, when set, caps the wait between reconnect attempts instead of Restart's.
	MaxBackoff time.Duration
	// KubectlTimeout bounds each kubectl logs and exec of the chain; default 30 s.
	KubectlTimeout time.Duration
	// SimulateAll makes every forward simulated (the agent ran with RHIZOME_SIMULATE=true).
	SimulateAll bool
	// SocketDir holds each forward's private Unix socket (made 0700 when missing); "" gives
	// forwards no socket. The Manager removes sockets left there by a killed agent, so it must
	// be the agent's own directory, used by no other agent.
	SocketDir string
	// Kubectl is the kubectl to run (the agent's RHIZOME_KUBECTL); "" finds kubectl on PATH.
	Kubectl string
	// StateDir is where the pod ports of past forwards are remembered; "" means env.StateDir().
	StateDir string
	// PrivateDir holds the sockets that only the agent uses: each context's kubectl proxy
	// and each simulation's back end. It is made 0700 when missing and must be the agent's
	// own: the Manager removes sockets a killed agent left there. "" makes a temporary one.
	PrivateDir string
	// NoWebSockets makes port-forward sessions SPDY only, as KUBECTL_PORT_FORWARD_WEBSOCKETS=false
	// does for kubectl.
	NoWebSockets bool
}

// DefaultRestart reconnects after any exit, for as long as the forward is wanted, backing off
// from half a second to 30 s. A forward's first start gives up sooner, by its own rules (see
// entry): on a failure that retrying cannot fix, or when no client waits any more.
var DefaultRestart = proc.RestartPolicy{
	Always:      true,
	MinBackoff:  500 * time.Millisecond,
	MaxBackoff:  30 * time.Second,
	Jitter:      0.2,
	StableAfter: 30 * time.Second,
}

// Process kinds of forwards, as ps shows them.
const (
	Kind          = "forward"
	KindSimulated = "simulated-forward"
)

// Manager owns the live forwards and shares each among all who ask for the same instance.
// It is safe for concurrent use. Wait waits for its goroutines once the supervisor is shut
// down.
type Manager struct {
	sup  *proc.Supervisor
	opts Options
	wg   sync.WaitGroup // one watcher per forward, until its front door is closed

	ports   *podPorts     // remembered pod ports, shared by every forward's chain
	proxies *kube.Proxies // one kubectl proxy per kubeconfig and context
	tempDir string        // a private directory made for want of opts.PrivateDir, removed by Wait

	mu       sync.Mutex
	forwards map[key]*entry   // guarded by mu; ended entries move to ended on the next Forward
	ended    map[int64]*entry // by process id, the latest maxEnded, for ps to say how they ended
}

// maxEnded bounds how many ended forwards the Manager remembers for ps.
const maxEnded = 64

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
	if opts.MaxBackoff > 0 {
		opts.Restart.MaxBackoff = opts.MaxBackoff
		opts.Restart.MinBackoff = min(opts.Restart.MinBackoff, opts.MaxBackoff)
	}
	if opts.SocketDir != "" {
		door.RemoveStaleSockets(opts.SocketDir)
	}
	tempDir := ""
	if opts.PrivateDir == "" || len(opts.PrivateDir)+len("/k-0123456789ab.sock") > door.MaxSocketPath {
		// No room for a socket path there: a fresh directory of our own in the temporary
		// one (MkdirTemp makes it 0700, with a name no one can take first).
		if dir, err := os.MkdirTemp("", "rz-"); err == nil {
			opts.PrivateDir, tempDir = dir, dir
		}
	} else {
		kube.RemoveStale(opts.PrivateDir)
	}
	ports := newPodPorts(cmp.Or(opts.StateDir, env.StateDir()))
	return &Manager{sup: sup, opts: opts, ports: ports, proxies: kube.NewProxies(sup, opts.PrivateDir, opts.KubectlTimeout),
		tempDir: tempDir, forwards: map[key]*entry{}, ended: map[int64]*entry{}}
}

// Wait waits until every forward's front door is closed, which follows the end of its
// process: call it after the supervisor's Shutdown.
func (m *Manager) Wait() {
	m.wg.Wait()
	if m.tempDir != "" {
		_ = os.RemoveAll(m.tempDir)
	}
}

// Forward returns the handle of a ready forward for r, starting one if none runs. Equal
// requests, concurrent or not, share one forward and one port-forward session.
func (m *Manager) Forward(ctx context.Context, r Request) (Handle, error) {
	if m.opts.SimulateAll {
		r.Simulate = true
	}
	r.LocalPort = r.localPort()
	if len(r.ConnectCommand) == 0 {
		r.ConnectCommand = env.DefaultConnectCommand
	}
	if r.ConnectWait == 0 {
		r.ConnectWait = DefaultConnectWait
	}
	if r.Wait == 0 {
		r.Wait = DefaultWait
	}
	if err := r.validate(); err != nil {
		return Handle{}, err
	}
	e, fresh, err := m.entryFor(r)
	if err != nil {
		return Handle{}, err
	}
	var notes []string
	if !fresh {
		notes = e.retune(r)
	}
	if r.PinPort && e.handle.LocalPort != r.LocalPort {
		return Handle{}, fmt.Errorf("%w: %s is already forwarded on port %d: use that, or stop it first to pin %d",
			ErrPortInUse, r.SQLConnection, e.handle.LocalPort, r.LocalPort)
	}
	h, err := e.waitReady(ctx, r.Wait)
	h.Notes = notes
	return h, err
}

// RetryAll tells every forward that the world may have changed (the machine woke up, the
// network changed): those reconnecting try again now instead of at the end of their backoff,
// and those that are ready check their chain now.
func (m *Manager) RetryAll(reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.forwards {
		e.proc.RetryNow(reason)
		e.proc.CheckNow()
	}
}

// entryFor finds the live forward for r or starts one (fresh).
func (m *Manager) entryFor(r Request) (e *entry, fresh bool, err error) {
	m.mu.Lock()
	for {
		e = m.forwards[r.key()]
		if e == nil {
			break
		}
		if !e.proc.Info().State.Terminal() && !e.endingItself() {
			m.mu.Unlock()
			return e, false, nil
		}
		// Wait without the lock, so ps and the wake/network retries go on while it ends: its
		// door closes right after its process ended, and then its port is free again.
		m.mu.Unlock()
		<-e.over
		// The new forward takes its place in ps too.
		_ = e.proc.Stop(context.Background())
		m.mu.Lock()
		if m.forwards[r.key()] == e {
			break // still the ended one: replace it (unless another caller already did)
		}
	}
	defer m.mu.Unlock()
	m.sweepLocked()
	m.dismissEndedLocked(r.label())
	spec, c, err := m.spec(r)
	if err != nil {
		return nil, false, err
	}
	d, err := m.openDoor(r)
	if err != nil {
		m.releaseProxy(c)
		return nil, false, err
	}
	c.door = d
	e = newEntry(r, d)
	e.watch(&spec)
	pr, err := m.sup.Start(context.Background(), spec)
	if err != nil {
		d.Close("the forward could not start")
		m.releaseProxy(c)
		// %w twice: callers can still tell proc's limit or shutdown from a failed chain.
		return nil, false, fmt.Errorf("%w: %w", ErrFailed, err)
	}
	e.proc = pr
	e.life = &lifetime{
		idleTimeout: r.IdleTimeout, maxAge: r.MaxAge,
		active: func() int { return d.Traffic().Active },
		end:    e.endItself,
	}
	d.Serve(door.Hooks{Logf: pr.Logf, LostBackend: pr.Kick, Waiting: pr.RetryNow, ActiveChanged: e.life.changed, Refusal: e.refusal})
	e.life.start()
	m.forwards[r.key()] = e
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		<-pr.Done()
		e.life.stop()
		info := pr.Info()
		reason := string(info.State)
		if info.Reason != "" {
			reason += ": " + info.Reason
		}
		if cut := d.Close(reason); cut > 0 {
			pr.Logf("%s: closed the front door, cutting %d open connection%s", reason, cut, plural(cut))
		}
		m.releaseProxy(c)
		close(e.over)
	}()
	if c.proxy != nil {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			c.retryWhenAPIAnswers(pr)
		}()
	}
	return e, true, nil
}

// releaseProxy lets go of c's kubectl proxy, if it holds one.
func (m *Manager) releaseProxy(c *chain) {
	if c.proxy != nil {
		m.proxies.Release(c.proxy)
	}
}

// openDoor binds the forward's port, the asked-for one or the next free one, and its socket.
func (m *Manager) openDoor(r Request) (*door.Door, error) {
	return door.Open(door.Config{
		Port: r.LocalPort, Pinned: r.PinPort, Held: m.heldLocked,
		Engine: r.engine(), SocketDir: m.opts.SocketDir, Name: r.label(), ID: fmt.Sprint(r.key()),
		ConnectWait: r.ConnectWait,
		Wire:        engine.For(r.Engine), Login: loginOf(r),
	})
}

// spec builds the process for r: the real chain, or the simulation. A real chain holds the
// context's kubectl proxy from here on; the forward's end releases it.
func (m *Manager) spec(r Request) (proc.Spec, *chain, error) {
	c := &chain{req: r, ports: m.ports, distrusted: map[int]bool{}, noWS: m.opts.NoWebSockets}
	spec := proc.Spec{
		Name: r.label(), Kind: Kind,
		Ready:          c.ready,
		Health:         c.health,
		HealthInterval: m.opts.HealthInterval,
		Restart:        m.opts.Restart,
		Run:            c.run,
	}
	if r.Simulate {
		return m.simulatedSpec(spec, c)
	}
	path, err := findKubectl(m.opts.Kubectl)
	if err != nil {
		return spec, nil, err
	}
	re, err := compilePattern(r.PortPattern, r.SQLConnection)
	if err != nil {
		return spec, nil, err
	}
	c.k = kubectl{path: path, kubeconfig: r.Kubeconfig, context: r.Context, namespace: r.Namespace, timeout: m.opts.KubectlTimeout}
	c.re = re
	if c.proxy, err = m.proxies.Acquire(kube.Target{Kubeconfig: r.Kubeconfig, Context: r.Context}, path); err != nil {
		return spec, nil, err
	}
	spec.Prepare = c.prepare
	return spec, c, nil
}

func (m *Manager) sweepLocked() {
	for k, e := range m.forwards {
		select {
		case <-e.over:
			delete(m.forwards, k)
			m.ended[e.proc.ID()] = e
		default:
		}
	}
	for len(m.ended) > maxEnded {
		oldest := int64(-1)
		for id := range m.ended {
			if oldest < 0 || id < oldest {
				oldest = id
			}
		}
		delete(m.ended, oldest)
	}
}

// dismissEndedLocked takes the ended forwards named name out of ps: a new one of that name
// shows its newest state, so repeated failed asks leave one row, not one each.
func (m *Manager) dismissEndedLocked(name string) {
	for _, e := range m.ended {
		if e.req.label() == name {
			_ = e.proc.Stop(context.Background()) // ended: it only leaves the list
		}
	}
}

// heldLocked reports whether a live forward holds port.
func (m *Manager) heldLocked(port int) bool {
	for _, e := range m.forwards {
		select {
		case <-e.over:
		default:
			if e.handle.LocalPort == port {
				return true
			}
		}
	}
	return false
}

// StatusOf returns the status of the forward running as process id, live or recently ended.
func (m *Manager) StatusOf(id int64) (Status, bool) {
	if e := m.byID(id); e != nil {
		return e.status(), true
	}
	return Status{}, false
}

// StateOf says how people see the forward running as process id when its process is in state
// st (for a state change as it happens).
func (m *Manager) StateOf(id int64, st proc.State) (string, bool) {
	if e := m.byID(id); e != nil {
		return e.shownState(st), true
	}
	return "", false
}

func (m *Manager) byID(id int64) *entry {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.forwards {
		if e.proc.ID() == id {
			return e
		}
	}
	return m.ended[id]
}
