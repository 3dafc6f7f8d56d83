package clustertest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// proxy stands in for Cloud SQL Auth Proxy v2 running in the pod for one instance. The
// connection script starts it; it then listens on targetAddr, the host address KWOK forwards pod
// port podPort to, and relays each connection to the instance's server (MariaDB or PostgreSQL). It lives in the test process so that nothing it starts can
// outlive the test. Safe for concurrent use.
type proxy struct {
	instance   string // the one instance that exists
	podPort    int    // the port it says it listens on inside the pod
	targetAddr string // 127.0.0.1:X, where KWOK's port-forward dials
	dbAddr     string // the server behind the instance

	wg sync.WaitGroup // accept loops and relays

	mu      sync.Mutex
	log     *podLog // the current pod's
	running bool    // started in the current pod
	broken  bool    // the target port must not answer (BreakTarget)
	ln      net.Listener
	conns   map[net.Conn]struct{} // accepted and not yet closed
	latest  net.Conn              // the last accepted, while open
}

// errNoInstance is the answer for an instance the proxy cannot reach.
var errNoInstance = errors.New("instance does not exist")

// connect starts the proxy for instance unless it already runs, and says what it did.
func (p *proxy) connect(instance string) (string, error) {
	if instance != p.instance {
		return "", fmt.Errorf("[%s] %w", instance, errNoInstance)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running {
		return fmt.Sprintf("[%s] already listening on 127.0.0.1:%d", p.instance, p.podPort), nil
	}
	if !p.broken {
		if err := p.listenLocked(); err != nil {
			return "", err
		}
	}
	p.running = true
	for _, line := range []string{ // Cloud SQL Auth Proxy v2's start-up lines
		"Authorizing with Application Default Credentials",
		fmt.Sprintf("[%s] Listening on 127.0.0.1:%d", p.instance, p.podPort),
		"The proxy has started successfully and is ready for new connections!",
	} {
		if err := p.log.printf("%s", line); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("[%s] started on 127.0.0.1:%d", p.instance, p.podPort), nil
}

// setBroken makes the target port refuse connections and drops the open ones (broken), or lets
// a running proxy listen on it again (!broken).
func (p *proxy) setBroken(broken bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.broken = broken
	if broken {
		p.closeLocked()
		return nil
	}
	if p.running && p.ln == nil {
		return p.listenLocked()
	}
	return nil
}

// resetLatest ends the newest open connection with a TCP reset (SO_LINGER 0), as a crashing
// process or a firewall in the pod would.
func (p *proxy) resetLatest() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.latest.(*net.TCPConn)
	if !ok {
		return errors.New("the proxy has no open connection")
	}
	p.latest = nil
	_ = c.SetLinger(0)
	return c.Close()
}

// stop ends the proxy as the pod's end would: the port closes and connections drop.
func (p *proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopLocked()
}

// newPod readies the proxy for a new pod, which logs to log: the proxy is not running there.
func (p *proxy) newPod(log *podLog) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopLocked()
	p.log = log
}

func (p *proxy) stopLocked() {
	p.running = false
	p.closeLocked()
}

// close stops the proxy and waits for its goroutines.
func (p *proxy) close() {
	p.stop()
	p.wg.Wait()
}

// logf appends a line to the current pod's log.
func (p *proxy) logf(format string, args ...any) {
	p.mu.Lock()
	log := p.log
	p.mu.Unlock()
	_ = log.printf(format, args...)
}

func (p *proxy) listenLocked() error {
	ln, err := net.Listen("tcp", p.targetAddr)
	if err != nil {
		return fmt.Errorf("proxy listening on %s: %w", p.targetAddr, err)
	}
	p.ln = ln
	p.wg.Add(1)
	go p.acceptLoop(ln)
	return nil
}

// closeLocked closes the listener and every open connection.
func (p *proxy) closeLocked() {
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) acceptLoop(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return // closed by closeLocked
		}
		p.mu.Lock()
		if p.ln != ln { // closed while this connection was arriving
			p.mu.Unlock()
			c.Close()
			return
		}
		if p.conns == nil {
			p.conns = map[net.Conn]struct{}{}
		}
		p.conns[c] = struct{}{}
		p.latest = c
		p.wg.Add(1)
		p.mu.Unlock()
		p.logf("[%s] Accepted connection from %s", p.instance, c.RemoteAddr())
		go p.relay(c)
	}
}

// relay copies between c and a new connection to the server until either side ends.
func (p *proxy) relay(c net.Conn) {
	defer p.wg.Done()
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		if p.latest == c {
			p.latest = nil
		}
		p.mu.Unlock()
		c.Close()
	}()
	up, err := net.DialTimeout("tcp", p.dbAddr, 5*time.Second)
	if err != nil {
		p.logf("[%s] failed to connect to instance: %v", p.instance, err)
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
	// Closing both ends the other copy.
	c.Close()
	up.Close()
	<-done
}
