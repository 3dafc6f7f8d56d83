// Package agent is rhizome's daemon: it owns the socket (lock, stale-socket recovery, peer
// check), serves the JSON-RPC protocol of package rpc, supervises processes with package proc,
// writes the logfile and fans output out to subscribed clients.
package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/rhizome-dev/rhizome/forward"
	"github.com/rhizome-dev/rhizome/forward/door"
	"github.com/rhizome-dev/rhizome/proc"
)

// Config says where and how an agent runs. The zero value of every field but Socket works.
type Config struct {
	Socket    string    // path of the Unix socket
	StrictDir bool      // require the socket's directory to be private (the default directory)
	LogFile   string    // "" for none
	LogMax    int64     // rotate the logfile past this size; 0 = DefaultLogMax
	Stderr    io.Writer // when set (foreground, -D), also gets every logfile line
	Version   string    // the binary's version, reported by the version method
	// Executable runs the sleeper and simulated-forward children; default os.Executable().
	Executable string
	MaxConns   int // concurrent client connections; default 1024
	// MaxProcesses bounds the supervised processes alive at once; default proc's, 1000.
	MaxProcesses int
	Grace        time.Duration // TERM→KILL grace for children; default 5 s
	// HealthInterval is how often ready forwards' chains are checked (a ping, never the
	// database); default 10 s.
	HealthInterval time.Duration
	// MaxBackoff caps the wait between a forward's reconnect attempts; default 30 s.
	MaxBackoff time.Duration
	// KubectlTimeout bounds each kubectl logs and exec of a forward's chain; default 30 s.
	KubectlTimeout time.Duration
	// Simulate makes every forward simulated (RHIZOME_SIMULATE=true in the agent's environment).
	Simulate bool
	// Debug logs at debug level (RHIZOME_DEBUG).
	Debug bool
	// Kubectl is the kubectl to run (RHIZOME_KUBECTL); "" looks for kubectl on the PATH.
	Kubectl string
	// NoWebSockets makes port-forwards SPDY only (KUBECTL_PORT_FORWARD_WEBSOCKETS=false).
	NoWebSockets bool
	// SleeperInterval paces sleepers whose client asks for no interval (SLEEP_OVERRIDE); 0 is
	// the sleeper's own default, 1 s. Children inherit the agent's environment besides.
	SleeperInterval time.Duration
	// Watchdog starts children through the watchdog (see proc.Options.Watchdog) even where
	// Pdeathsig would do; where it would not (macOS), the watchdog is always used.
	Watchdog bool
}

// Agent is a running daemon. Create it with Start; it serves until Shutdown or Close.
type Agent struct {
	cfg      Config
	log      *logrus.Logger
	logfile  *logFile
	ln       *listener
	sup      *proc.Supervisor
	forwards *forward.Manager
	started  time.Time

	ctx    context.Context // cancelled when the agent shuts down: requests in flight give up
	cancel context.CancelFunc
	// gs owns every goroutine the agent starts: the accept loop and the connections (each
	// of which owns its requests and subscription pumps).
	gs goroutines

	mu      sync.Mutex
	conns   map[net.Conn]*session // guarded by mu
	refused map[net.Conn]struct{} // guarded by mu: refused, being told why (refuseLingering)
	closing bool                  // guarded by mu: Close has begun ending connections

	shutdownReq  chan struct{} // closed by the shutdown method
	shutdownOnce sync.Once
	lnOnce       sync.Once
	filesOnce    sync.Once
	lnErr        error
	closeOnce    sync.Once
	closeErr     error
}

// Start takes the socket and begins serving. The caller must Shutdown or Close the agent to
// stop its children and remove the socket.
func Start(cfg Config) (*Agent, error) {
	if cfg.MaxConns == 0 {
		cfg.MaxConns = 1024
	}
	if cfg.LogMax == 0 {
		cfg.LogMax = DefaultLogMax
	}
	if cfg.Executable == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("finding own executable: %w", err)
		}
		cfg.Executable = exe
	}
	ln, err := listen(cfg.Socket, cfg.StrictDir)
	if err != nil {
		return nil, err
	}
	lf := openLogFile(cfg.LogFile, cfg.LogMax, cfg.Stderr)
	log := logrus.New()
	log.SetOutput(lf)
	log.SetFormatter(lineFormatter{})
	if cfg.Debug {
		log.SetLevel(logrus.DebugLevel)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &Agent{
		cfg: cfg, log: log, logfile: lf, ln: ln, started: time.Now(),
		ctx: ctx, cancel: cancel,
		conns:       map[net.Conn]*session{},
		refused:     map[net.Conn]struct{}{},
		shutdownReq: make(chan struct{}),
	}
	popts := proc.Options{
		Sink:         lf,
		Grace:        cfg.Grace,
		MaxProcesses: cfg.MaxProcesses,
		Logf:         func(format string, args ...any) { log.Warnf(format, args...) },
	}
	if cfg.Watchdog || !proc.HasPdeathsig {
		popts.Watchdog = []string{cfg.Executable, WatchdogCommand}
	}
	a.sup = proc.New(popts)
	a.forwards = forward.NewManager(a.sup, forward.Options{
		Executable:     cfg.Executable,
		HealthInterval: cfg.HealthInterval,
		MaxBackoff:     cfg.MaxBackoff,
		KubectlTimeout: cfg.KubectlTimeout,
		SimulateAll:    cfg.Simulate,
		SocketDir:      ForwardSocketDir(cfg.Socket),
		PrivateDir:     PrivateDir(cfg.Socket),
		Kubectl:        cfg.Kubectl,
		NoWebSockets:   cfg.NoWebSockets,
	})
	log.WithFields(logrus.Fields{"socket": cfg.Socket, "version": cfg.Version}).Info("agent started")
	if w := lf.Warning(); w != "" && cfg.Stderr != nil {
		fmt.Fprintln(cfg.Stderr, "rhizome agent: "+w)
	}
	a.gs.Go(a.acceptLoop)
	a.gs.Go(a.watchWake)
	a.startWatchingNet()
	return a, nil
}

// ForwardSocketDir is where the agent at socket keeps its forwards' private sockets: a
// directory beside its own socket named after it (agent.sock.forwards), so it is as private
// and as short-lived, and two agents in one directory (-a) never share one.
func ForwardSocketDir(socket string) string { return socket + ".forwards" }

// PrivateDir is where the agent at socket keeps the sockets only it uses (kubectl proxies,
// simulations): a directory beside its own socket, so it is as private and as short-lived.
// Named after the socket, as the forwards' directory is, so two agents never share one.
func PrivateDir(socket string) string { return socket + ".kube" }

// Socket is the path the agent listens on.
func (a *Agent) Socket() string { return a.cfg.Socket }

// ShutdownRequested is closed when a client asked the agent to shut down.
func (a *Agent) ShutdownRequested() <-chan struct{} { return a.shutdownReq }

func (a *Agent) requestShutdown() {
	a.shutdownOnce.Do(func() { close(a.shutdownReq) })
}

// Shutdown stops the agent gracefully: it stops accepting (removing the socket), stops every
// child (TERM, then KILL after the grace period), lets every connection answer the requests it
// has read, then ends the connections and waits for all the agent's goroutines. If ctx ends
// first, Shutdown falls back to Close and returns ctx's error. As with net/http's Server, the
// agent cannot be used again afterwards.
func (a *Agent) Shutdown(ctx context.Context) error {
	a.log.Info("agent shutting down")
	lnErr := a.closeListener()
	supErr := a.sup.Shutdown(ctx)
	if supErr == nil {
		a.forwards.Wait() // every front door closed: ports released, sockets removed
		a.removeFiles()   // before the connections close: a client that waits for that sees none
	}
	a.cancel() // requests still waiting (e.g. for a forward to be ready) give up now
	// The supervisor has ended every subscription: the pumps send what is left, and why.
	answered := make(chan struct{})
	if !a.gs.Go(func() {
		defer close(answered)
		for _, s := range a.sessions() {
			s.requests.Wait()
			s.pumps.Wait()
		}
	}) {
		close(answered) // Close has begun: it ends everything
	}
	select {
	case <-answered:
	case <-ctx.Done():
		supErr = errors.Join(supErr, fmt.Errorf("agent: shutdown: %w", ctx.Err()))
	}
	return errors.Join(lnErr, supErr, a.Close())
}

// Close stops the agent at once: it stops accepting (removing the socket), kills every child
// (SIGKILL to its group), ends every connection without waiting for answers, and waits for all
// the agent's goroutines, which end promptly. It is safe to call more than once and after
// Shutdown.
func (a *Agent) Close() error {
	a.closeOnce.Do(func() {
		lnErr := a.closeListener()
		a.cancel()
		expired, expire := context.WithCancel(context.Background())
		expire()
		_ = a.sup.Shutdown(expired) // ends at once, with a SIGKILL to every group left
		a.mu.Lock()
		a.closing = true
		for c := range a.conns {
			c.Close()
		}
		for c := range a.refused {
			c.Close()
		}
		a.mu.Unlock()
		// The killed children die at once; wait for the supervisor to reap them.
		_ = a.sup.Shutdown(context.Background())
		a.forwards.Wait() // every front door closed: ports released, sockets removed
		a.removeFiles()
		a.gs.Wait()
		a.log.Info("agent stopped")
		a.logfile.Close()
		a.closeErr = lnErr
	})
	return a.closeErr
}

// removeFiles removes what is left of the agent's beside its socket once its forwards have
// ended (their directory, if empty) and then the lock, which it releases: until then no other
// agent may take the socket's place. Only the first call does anything.
func (a *Agent) removeFiles() {
	a.filesOnce.Do(func() {
		door.RemoveSocketDir(ForwardSocketDir(a.cfg.Socket))
		forward.RemovePrivateDir(PrivateDir(a.cfg.Socket))
		a.ln.unlock()
	})
}

// closeListener stops accepting and removes the socket, once.
func (a *Agent) closeListener() error {
	a.lnOnce.Do(func() { a.lnErr = a.ln.Close() })
	return a.lnErr
}

// sessions returns the connections being served.
func (a *Agent) sessions() []*session {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]*session, 0, len(a.conns))
	for _, s := range a.conns {
		out = append(out, s)
	}
	return out
}

func (a *Agent) acceptLoop() {
	for {
		c, err := a.ln.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			a.log.WithError(err).Warn("accept failed")
			select {
			case <-a.ctx.Done():
				return
			case <-time.After(50 * time.Millisecond): // e.g. EMFILE: don't spin
			}
			continue
		}
		s := a.admit(c)
		if s == nil {
			continue
		}
		if !a.gs.Go(func() { a.serveConn(c, s) }) {
			a.forget(c)
			c.Close()
		}
	}
}
