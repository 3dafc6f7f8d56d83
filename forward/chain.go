package forward

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rhizome-dev/rhizome/proc"
)

// chain is one forward's way from a pod to its front door: it (re)starts the back end (the
// kubectl port-forward, on a loopback port kubectl picks) and tells the door when the back end
// is up. Its hooks run on its Process's own goroutine, one at a time, so its fields need no
// lock.
//
// A first attempt takes the shortest way it can trust: the pod port remembered from the last
// greeting (ports) when there is one, so the port-forward starts at once; else, and on every
// reconnect, the connection command, which starts the proxy unless it runs and names its port.
// A remembered port that brings no greeting is dropped and the long way taken at once. Either
// way the forward is ready only once a greeting came through.
type chain struct {
	req   Request
	k     kubectl
	re    *regexp.Regexp
	door  *frontDoor
	ports *podPorts // pod ports remembered across attempts, forwards and agents

	remotePort  int
	backendAddr string // where the current back end listens, once its banner said so
	guessed     bool   // remotePort is the remembered one, not yet confirmed by a greeting
	attempts    int    // attempts prepared so far
	podAnswered bool   // the last attempt reached the pod (a port there gave no greeting)
	selector    string // the deployment's pod selector, once asked (waitPodRunning)
	// distrusted holds pod ports whose proxy let us down (no greeting, failed health check):
	// the next attempt runs the connection command instead of reusing what it knows.
	distrusted map[int]bool
}

const (
	// announceWait bounds how long the proxy may take to announce its port after the
	// connection command returned.
	announceWait = 30 * time.Second
	// reannounceWait is how long a proxy that was already announced gets to announce again.
	reannounceWait = 3 * time.Second
	// readyWait bounds how long kubectl port-forward may take to carry a greeting.
	readyWait = 30 * time.Second
	// greetingRefusals is how many connections in a row may close without a greeting before
	// the pod side counts as dead rather than still starting.
	greetingRefusals = 3
)

func (c *chain) deployment() string { return "deploy/" + c.req.Deployment }

// prepare finds or starts the proxy in the pod and returns the kubectl port-forward command.
// Only a first attempt tries the remembered pod port: a reconnect follows a failure, after
// which the proxy may need starting (it died, or the pod is new), so it runs the connection
// command, once a pod runs.
func (c *chain) prepare(ctx context.Context, p *proc.Process) ([]string, error) {
	c.door.down()
	c.attempts++
	if c.attempts > 1 && !c.podAnswered {
		// The pod may be gone or going (a rollout): wait for one that runs.
		if err := c.waitPodRunning(ctx, p.Logf); err != nil {
			return nil, err
		}
	}
	c.podAnswered = false
	c.guessed = false
	if port := c.ports.get(podPortKey(c.req)); c.attempts == 1 && port != 0 {
		c.remotePort, c.guessed = port, true
		p.Logf("trying the remembered pod port %d for %s", port, c.req.SQLConnection)
	} else {
		var err error
		if c.remotePort, err = c.startProxy(ctx, p); err != nil {
			return nil, err
		}
	}
	// ":REMOTE" lets kubectl pick a free local port, which its banner names.
	return c.k.argv("port-forward", "--address", "127.0.0.1", c.deployment(), fmt.Sprintf(":%d", c.remotePort)), nil
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
	argv := append(append([]string{"exec", c.deployment(), "--"}, c.req.ConnectCommand...), c.req.SQLConnection)
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
		log, err := c.k.run(ctx, "logs", c.deployment())
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

// ready waits for the back end's banner, then until a greeting comes back through it:
// kubectl's banner only says it listens, not that the pod, the proxy and the database answer.
// Then the front door relays to it, and the pod port is remembered for the next start.
func (c *chain) ready(ctx context.Context, p *proc.Process) error {
	ctx, cancel := context.WithTimeout(ctx, readyWait)
	defer cancel()
	port, err := backendPort(ctx, p)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("the port-forward named no local port within %v", readyWait)
		}
		return c.unconfirmed(p, endedEarly(p))
	}
	c.backendAddr = "127.0.0.1:" + strconv.Itoa(port)
	refusals := 0
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		version, err := ProbeFor(c.req.Engine)(ctx, c.backendAddr)
		if err == nil {
			p.Logf("ready: %s answers on 127.0.0.1:%d (server %s, back end %s, pod port %d)", c.req.SQLConnection, c.door.port, version, c.backendAddr, c.remotePort)
			c.door.up(c.backendAddr)
			c.guessed = false
			if err := c.ports.set(podPortKey(c.req), c.remotePort); err != nil {
				p.Logf("%v", err)
			}
			return nil
		}
		if errors.Is(err, ErrNoGreeting) {
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
				return fmt.Errorf("no %s answer through %s within %v: %v", c.req.engine().Title, c.backendAddr, readyWait, err)
			}
			return c.unconfirmed(p, endedEarly(p))
		case <-time.After(wait):
		}
	}
}

// unconfirmed ends an attempt whose port-forward brought no greeting. When it tried a
// remembered pod port, the next attempt takes the long way at once, without backoff: the
// remembered port was a guess, and guessing cost nothing but this attempt.
func (c *chain) unconfirmed(p *proc.Process, err error) error {
	if c.guessed {
		c.guessed = false
		c.distrust()
		p.Kick(fmt.Sprintf("the remembered pod port %d gave no greeting; asking the connection command", c.remotePort))
	}
	return err
}

// bannerRE is the line in which kubectl port-forward (and the simulation) names its local port.
var bannerRE = regexp.MustCompile(`^Forwarding from 127\.0\.0\.1:(\d+) -> \d+`)

// backendPort waits for the banner of p's current child and returns the port it names. It
// looks often at first: kubectl names its port within tens of milliseconds, and each look that
// comes late adds to the time until the forward is ready.
func backendPort(ctx context.Context, p *proc.Process) (int, error) {
	pid := p.Info().PID
	start := time.Now()
	for wait := time.Millisecond; ; wait = bannerPoll(time.Since(start)) {
		for _, l := range p.Lines(50) {
			if l.PID != pid || l.Stream != proc.Stdout {
				continue
			}
			if m := bannerRE.FindStringSubmatch(l.Text); m != nil {
				return strconv.Atoi(m[1])
			}
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// bannerPoll is how long backendPort waits between looks, after waiting for so long.
func bannerPoll(waited time.Duration) time.Duration {
	if waited < time.Second {
		return 2 * time.Millisecond
	}
	return 50 * time.Millisecond
}

// endedEarly says why the readiness check ended before a greeting: the port-forward exited
// (or the forward is being stopped). proc has all of the child's output in the ring by the
// time the hook's ctx ends, so kubectl's last words can be quoted; its last stderr line is
// the one that says what went wrong.
func endedEarly(p *proc.Process) error {
	pid := p.Info().PID
	var lastOut, lastErr string
	for _, l := range p.Lines(50) {
		switch {
		case l.PID != pid:
		case l.Stream == proc.Stderr:
			lastErr = l.Text
		case l.Stream == proc.Stdout:
			lastOut = l.Text
		}
	}
	last := cmp.Or(lastErr, lastOut)
	if last == "" {
		return errors.New("the port-forward exited before the forward was ready")
	}
	return fmt.Errorf("the port-forward exited before the forward was ready: %s", last)
}

// health checks the whole chain again; the traffic also keeps the port-forward's stream from
// idling out. A failed check restarts the chain at once (no backoff: it was up a moment ago),
// through the connection command, which starts the proxy again if it died.
func (c *chain) health(ctx context.Context, p *proc.Process) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := ProbeFor(c.req.Engine)(ctx, c.backendAddr); err != nil {
		c.distrust()
		c.podAnswered = errors.Is(err, ErrNoGreeting)
		err = fmt.Errorf("health check through the back end %s failed: %w", c.backendAddr, err)
		p.Kick(err.Error())
		return err
	}
	return nil
}

func (c *chain) distrust() {
	if c.remotePort != 0 {
		c.distrusted[c.remotePort] = true
	}
}
