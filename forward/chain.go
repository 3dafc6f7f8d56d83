package forward

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/rhizome-dev/rhizome/forward/door"
	"github.com/rhizome-dev/rhizome/forward/engine"
	"github.com/rhizome-dev/rhizome/forward/kube"
	"github.com/rhizome-dev/rhizome/proc"
)

// chain is one forward's way from a pod to its front door, redone on every attempt: through
// the context's kubectl proxy it finds a running pod of the deployment, learns the pod port
// of the instance's proxy, opens a port-forward session to the pod (the agent speaks the
// protocol itself: nothing listens but the door) and, once a greeting came through a stream
// of it, hands the door a back end that opens one stream pair per client connection. Its
// hooks run on its Process's own goroutine, one at a time, so its fields need no lock.
//
// The pod port: the database's pod-port when the config names one (a sidecar that always
// listens); else, on a first attempt, the one remembered from the last greeting (ports); else,
// and on every reconnect, the connection command's, which starts the proxy unless it runs.
// A remembered port that brings no greeting is dropped and the long way taken at once.
type chain struct {
	req   Request
	k     kubectl // for the connection command and the pod's log
	re    *regexp.Regexp
	door  *door.Door
	ports *podPorts   // pod ports remembered across attempts, forwards and agents
	proxy *kube.Proxy // the context's kubectl proxy, shared with other forwards
	noWS  bool        // SPDY only (KUBECTL_PORT_FORWARD_WEBSOCKETS=false)

	pod         string        // the pod of the current attempt
	session     *kube.Session // the current attempt's port-forward session
	remotePort  int
	guessed     bool   // remotePort is the remembered one, not yet confirmed by a greeting
	attempts    int    // attempts prepared so far
	podAnswered bool   // the last attempt reached the pod (a port there gave no greeting)
	selector    string // the deployment's pod selector, once asked
	// distrusted holds pod ports whose proxy let us down (no greeting, a refused stream):
	// the next attempt runs the connection command instead of reusing what it knows.
	distrusted map[int]bool
}

const (
	// announceWait bounds how long the proxy may take to announce its port after the
	// connection command returned.
	announceWait = 30 * time.Second
	// reannounceWait is how long a proxy that was already announced gets to announce again.
	reannounceWait = 3 * time.Second
	// readyWait bounds how long the first greeting through a new session may take.
	readyWait = 30 * time.Second
	// podWait bounds how long an attempt waits for a running pod.
	podWait = 30 * time.Second
	// pingWait bounds the health check's ping of the session.
	pingWait = 5 * time.Second
	// greetingRefusals is how many connections in a row may close without a greeting before
	// the pod side counts as dead rather than still starting.
	greetingRefusals = 3
)

// prepare finds a running pod, the pod port and opens the session. It returns what the
// attempt does, for ps: there is no command, the streams run in the agent.
func (c *chain) prepare(ctx context.Context, p *proc.Process) ([]string, error) {
	c.door.Down()
	c.attempts++
	if err := c.proxy.Up(ctx); err != nil {
		return nil, err
	}
	if c.selector == "" {
		sel, err := c.proxy.Selector(ctx, c.req.Namespace, c.req.Deployment)
		if err != nil {
			return nil, err
		}
		c.selector = sel
	}
	pod, err := c.proxy.RunningPod(ctx, c.req.Namespace, c.selector, podWait)
	if err != nil {
		return nil, err
	}
	if pod != c.pod && c.pod != "" {
		p.Logf("pod %s is running", pod)
	}
	c.pod = pod
	c.podAnswered = false
	c.guessed = false
	switch remembered := c.ports.get(podPortKey(c.req)); {
	case c.req.PodPort != 0:
		c.remotePort = c.req.PodPort
	case c.attempts == 1 && remembered != 0:
		c.remotePort, c.guessed = remembered, true
		p.Logf("trying the remembered pod port %d for %s", remembered, c.req.SQLConnection)
	default:
		if c.remotePort, err = c.startProxy(ctx, p); err != nil {
			return nil, err
		}
	}
	s, err := c.proxy.PortForward(ctx, c.req.Namespace, pod, c.noWS)
	if err != nil {
		return nil, err
	}
	c.session = s
	return []string{"port-forward", "pod/" + pod, fmt.Sprintf(":%d", c.remotePort), "(" + string(s.Protocol) + ", in the agent)"}, nil
}

// execPortRE reads the port from what the connection command prints about the instance when
// its output lacks the proxy's own announcement ("[proj:region:inst] started on 127.0.0.1:5432",
// "… already listening on …"): the port a person would port-forward to by hand.
func execPortRE(instance string) *regexp.Regexp {
	return regexp.MustCompile(`\[` + regexp.QuoteMeta(instance) + `\][^\n]*?(?:127\.0\.0\.1|localhost|0\.0\.0\.0|\[::1?\]):(\d+)`)
}

// startProxy runs the connection command in the pod, which starts the proxy unless it runs, and
// returns the pod port the proxy listens on: from the command's output, else from the proxy's
// announcement in the pod's log. A port the chain distrusts must be announced anew; a
// connection script that finds its proxy already running may announce nothing new, and then,
// after a short wait, the last announcement stands.
func (c *chain) startProxy(ctx context.Context, p *proc.Process) (int, error) {
	argv := append(append([]string{"exec", c.pod, "--"}, c.req.ConnectCommand...), c.req.SQLConnection)
	p.Logf("starting the proxy: kubectl %s", strings.Join(argv, " "))
	out, err := c.k.run(ctx, argv...)
	if err != nil {
		return 0, fmt.Errorf("running the connection command in the pod: %w", err)
	}
	if ports := portAnnouncements(c.re, out); len(ports) > 0 {
		return c.announced(ports), nil
	}
	if ports := portAnnouncements(execPortRE(c.req.SQLConnection), out); len(ports) > 0 {
		return c.announced(ports), nil
	}
	start, seen := time.Now(), -1
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		log, err := c.k.run(ctx, "logs", c.pod)
		if err != nil {
			return 0, fmt.Errorf("reading the pod's log: %w", err)
		}
		ports := portAnnouncements(c.re, log)
		if seen < 0 {
			seen = len(ports)
			if seen > 0 && !c.distrusted[ports[seen-1]] {
				return c.announced(ports), nil
			}
		}
		switch {
		case len(ports) > seen:
			return c.announced(ports), nil
		case len(ports) > 0 && time.Since(start) > reannounceWait:
			p.Logf("the connection command announced nothing new; using pod port %d", ports[len(ports)-1])
			return c.announced(ports), nil
		case time.Since(start) > announceWait:
			return 0, fmt.Errorf("the proxy for %s announced no port in the pod's log within %v (pattern %s)", c.req.SQLConnection, announceWait, c.re)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// announced takes the latest announced port and trusts it again: the proxy was (re)started.
func (c *chain) announced(ports []int) int {
	port := ports[len(ports)-1]
	delete(c.distrusted, port)
	return port
}

// run is the attempt itself: it lasts while the session does and the pod runs. A chain that
// was up and breaks under it restarts at once (a kick, no backoff): it worked a moment ago.
func (c *chain) run(ctx context.Context, p *proc.Process) error {
	s := c.session
	defer s.Close()
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	podGone := make(chan error, 1)
	go func() { podGone <- c.proxy.WatchPod(watchCtx, c.req.Namespace, c.pod) }()
	var why string
	for why == "" {
		select {
		case <-ctx.Done():
			return nil
		case <-s.Done():
			why = fmt.Sprintf("the port-forward session to pod %s ended", c.pod)
		case err := <-podGone:
			if err == nil {
				why = fmt.Sprintf("pod %s stopped running", c.pod)
				break
			}
			if ctx.Err() != nil {
				return nil
			}
			// The watch cannot run (the API server restarts, the user may not watch pods):
			// the session and its pings still tell. Try the watch again in a while.
			p.Logf("not watching pod %s: %v", c.pod, err)
			go func() {
				select {
				case <-watchCtx.Done():
					podGone <- watchCtx.Err()
				case <-time.After(10 * time.Second):
					podGone <- c.proxy.WatchPod(watchCtx, c.req.Namespace, c.pod)
				}
			}()
		}
	}
	c.door.Down()
	if p.Info().State == proc.Ready {
		p.Kick(why)
		<-ctx.Done()
		return nil
	}
	return errors.New(why)
}

// check proves that the database answers through dial. With a login that the door makes, it
// logs in and says goodbye, so the server records no aborted connection; a server that
// answers but refuses the login still proves the chain (the door tells its clients why).
// Without one, it takes the engine's first step and hangs up.
func (c *chain) check(ctx context.Context, p *proc.Process, dial func(context.Context) (net.Conn, error)) (string, error) {
	l := c.door.Login()
	if l == nil || l.User == "" { // no user: the clients name theirs, and the check cannot
		return engine.ProbeThrough(ctx, c.req.Engine, dial)
	}
	version, err := engine.LoginThrough(ctx, c.req.Engine, dial, *l)
	if err != nil && !errors.Is(err, engine.ErrNoGreeting) && ctx.Err() == nil {
		p.Logf("the database answers, but the door's login failed: %v", err)
		return version, nil
	}
	return version, err
}

// ready waits until a greeting comes back through a stream of the session: the session
// only says the API server and the kubelet answer, not that the pod, the proxy and the
// database do. Then the front door opens streams for its clients, and the pod port is
// remembered for the next start.
func (c *chain) ready(ctx context.Context, p *proc.Process) error {
	ctx, cancel := context.WithTimeout(ctx, readyWait)
	defer cancel()
	b := &sessionBackend{session: c.session, port: c.remotePort}
	refusals, tries := 0, 0
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		version, err := c.check(ctx, p, b.Dial)
		if err == nil {
			p.Logf("ready: %s answers on 127.0.0.1:%d (server %s, pod %s port %d, %s)", c.req.SQLConnection, c.door.Port(), version, c.pod, c.remotePort, c.session.Protocol)
			c.door.Up(b)
			c.guessed = false
			if c.req.PodPort == 0 {
				if err := c.ports.set(podPortKey(c.req), c.remotePort); err != nil {
					p.Logf("%v", err)
				}
			}
			return nil
		}
		if tries++; tries == 1 { // once per attempt: the loop tries every few milliseconds
			p.Logf("no answer yet through pod %s port %d (trying again): %v", c.pod, c.remotePort, err)
		}
		if errors.Is(err, engine.ErrNoGreeting) {
			c.podAnswered = true
			if c.guessed { // no proxy there (any more): ask the connection command, now
				return c.unconfirmed(p, fmt.Errorf("no greeting through the remembered pod port %d: %w", c.remotePort, err))
			}
			if refusals++; refusals >= greetingRefusals {
				c.distrust()
				return fmt.Errorf("nothing answers behind pod port %d: %w", c.remotePort, err)
			}
		}
		select {
		case <-ctx.Done():
			c.distrust()
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("no %s answer through pod %s port %d within %v: %v", c.req.engine().Title, c.pod, c.remotePort, readyWait, err)
			}
			return c.unconfirmed(p, fmt.Errorf("the port-forward session ended before the forward was ready: %v", err))
		case <-time.After(wait):
		}
	}
}

// unconfirmed ends an attempt whose session brought no greeting. When it tried a remembered
// pod port, the next attempt takes the long way at once, without backoff: the remembered port
// was a guess, and guessing cost nothing but this attempt.
func (c *chain) unconfirmed(p *proc.Process, err error) error {
	if c.guessed {
		c.guessed = false
		c.distrust()
		p.Kick(fmt.Sprintf("the remembered pod port %d gave no greeting; asking the connection command", c.remotePort))
	}
	return err
}

// health checks the chain without touching the database: a ping through the session, which
// the API server and the kubelet answer. An idle database is never connected to (a
// greeting-only connection is an aborted handshake to MySQL, which blocks hosts that make too
// many). A failed check restarts the chain at once.
func (c *chain) health(ctx context.Context, p *proc.Process) error {
	ctx, cancel := context.WithTimeout(ctx, pingWait)
	defer cancel()
	if err := c.session.Ping(ctx); err != nil {
		err = fmt.Errorf("the port-forward session to pod %s: %w", c.pod, err)
		p.Kick(err.Error())
		return err
	}
	return nil
}

func (c *chain) distrust() {
	if c.remotePort != 0 && c.req.PodPort == 0 {
		c.distrusted[c.remotePort] = true
	}
}

// sessionBackend opens a stream pair to the pod port for each connection.
type sessionBackend struct {
	session *kube.Session
	port    int
}

func (b *sessionBackend) Dial(ctx context.Context) (net.Conn, error) {
	return b.session.Dial(ctx, b.port)
}

func (b *sessionBackend) String() string {
	return fmt.Sprintf("pod %s port %d (%s)", b.session.Pod, b.port, b.session.Protocol)
}
