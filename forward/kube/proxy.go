package kube

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rhizome-dev/rhizome/proc"
	"github.com/rhizome-dev/rhizome/rpc/safesocket"
)

// Kind is the process kind of a kubectl proxy, as ps shows it.
const Kind = "kube-proxy"

// Proxies keeps one kubectl proxy per Target, started on first use as a supervised child
// (restarted when it dies, its output in the log, a ps row of its own), shared by every user of
// that Target and stopped after the last one lets go. Its sockets live in dir, a 0700
// directory of the agent's own. Safe for concurrent use.
type Proxies struct {
	sup    *proc.Supervisor
	dir    string        // where the sockets are
	upWait time.Duration // how long Up waits for a proxy to answer

	mu   sync.Mutex
	live map[Target]*Proxy
}

// NewProxies returns Proxies that run kubectl proxies under sup, with sockets in dir. upWait
// bounds how long a user waits for a proxy to answer (0: 30 s).
func NewProxies(sup *proc.Supervisor, dir string, upWait time.Duration) *Proxies {
	if upWait <= 0 {
		upWait = 30 * time.Second
	}
	return &Proxies{sup: sup, dir: dir, upWait: upWait, live: map[Target]*Proxy{}}
}

// Proxy is one kubectl proxy and the HTTP client that reaches the API server through it.
type Proxy struct {
	target Target
	socket string
	proc   *proc.Process
	client *http.Client
	wait   time.Duration
	refs   int // guarded by Proxies.mu
}

// RemoveStale removes sockets that a killed agent's proxies left in dir: every proxy of this
// agent starts after this, so none of them is live. A dir that is not the user's alone (a
// symlink planted in its place, another user's directory) is left untouched.
func RemoveStale(dir string) {
	if safesocket.CheckPrivateDir(dir) != nil {
		return // missing, or not ours to clean: PrivateDir says why when a proxy needs it
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Type()&os.ModeSocket != 0 {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// Acquire returns the proxy for t, starting it with kubectl if none runs. Each Acquire needs
// a Release.
func (ps *Proxies) Acquire(t Target, kubectl string) (*Proxy, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if p := ps.live[t]; p != nil {
		select {
		case <-p.proc.Done(): // stopped by a Release that raced a supervisor shutdown
		default:
			p.refs++
			return p, nil
		}
	}
	if err := PrivateDir(ps.dir); err != nil {
		return nil, err
	}
	socket := filepath.Join(ps.dir, "k-"+shortHash(t.Kubeconfig+"\x00"+t.Context)+".sock")
	p := &Proxy{target: t, socket: socket, refs: 1, wait: ps.upWait, client: unixClient(socket)}
	spec := proc.Spec{
		Name: "kubectl proxy " + t.Context, Kind: Kind,
		// --context=NAME as one argument, so that no name is read as a flag of its own.
		Argv:    []string{kubectl, "--context=" + t.Context, "proxy", "--unix-socket=" + socket},
		Env:     ChildEnv(t.Kubeconfig),
		Dir:     "/",
		Ready:   p.answers,
		Restart: proc.RestartPolicy{Always: true, MinBackoff: 500 * time.Millisecond, MaxBackoff: 10 * time.Second, Jitter: 0.2, StableAfter: 30 * time.Second},
	}
	spec.Prepare = func(context.Context, *proc.Process) ([]string, error) {
		// A socket left by this proxy's last child would make kubectl's bind fail.
		_ = os.Remove(socket)
		return spec.Argv, nil
	}
	pr, err := ps.sup.Start(context.Background(), spec)
	if err != nil {
		return nil, fmt.Errorf("starting kubectl proxy for %s: %w", t.Context, err)
	}
	p.proc = pr
	ps.live[t] = p
	return p, nil
}

// Release lets go of p; the last Release stops its kubectl proxy.
func (ps *Proxies) Release(p *Proxy) {
	ps.mu.Lock()
	p.refs--
	last := p.refs == 0
	if last && ps.live[p.target] == p {
		delete(ps.live, p.target)
	}
	ps.mu.Unlock()
	if last {
		p.client.CloseIdleConnections()
		// Stopped, it leaves ps. Stop waits for kubectl's end, which nobody here needs to.
		go func() { _ = p.proc.Stop(context.Background()) }()
	}
}

// answers is the proxy's Ready check: its socket takes connections. It looks often: every
// look that comes late adds to a first forward's time. A kubectl that makes no socket within
// the wait is killed and started again.
func (p *Proxy) answers(ctx context.Context, _ *proc.Process) error {
	ctx, cancel := context.WithTimeout(ctx, p.wait)
	defer cancel()
	for wait := 2 * time.Millisecond; ; wait = min(2*wait, 5*time.Millisecond) {
		var d net.Dialer
		if c, err := d.DialContext(ctx, "unix", p.socket); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// Up waits until the proxy answers. A proxy whose kubectl exits before it answers (a context
// that does not exist, a kubeconfig it cannot read) makes Up fail at once with kubectl's words.
func (p *Proxy) Up(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, p.wait)
	defer cancel()
	for {
		info := p.proc.Info()
		switch {
		case info.State == proc.Ready:
			return nil
		case info.State.Terminal():
			return errors.New("kubectl proxy ended")
		case info.Restarts > 0 || info.State == proc.Restarting:
			if words := p.lastWords(); words != "" {
				return fmt.Errorf("kubectl proxy: %s", words)
			}
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("kubectl proxy: no answer within %v", p.wait)
			}
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// lastWords is what the proxy's last child said on stderr when it exited, "" if it has not
// exited since it last answered.
func (p *Proxy) lastWords() string {
	info := p.proc.Info()
	if info.State != proc.Restarting && info.State != proc.Failed {
		return ""
	}
	var words []string
	for _, l := range p.proc.Lines(20) {
		if l.Stream == proc.Stderr {
			words = append(words, l.Text)
		}
	}
	return KubectlWords(joinLines(words))
}

// ChildEnv is what a kubectl child gets on top of the agent's environment: the kubeconfig of
// the shell that asked, exactly; an empty one means kubectl's default (~/.kube/config), never
// the KUBECONFIG that the agent itself was started with.
func ChildEnv(kubeconfig string) []string {
	return []string{"KUBECONFIG=" + kubeconfig}
}

// unixClient is an HTTP client whose every connection goes to socket.
func unixClient(socket string) *http.Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
	}
	return &http.Client{Transport: tr}
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}

// PrivateDir makes dir 0700 if it is missing (and its parent, the agent's socket directory)
// and checks that it is ours alone: a directory another user made first, or a symlink, is
// refused.
func PrivateDir(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return err
	}
	return safesocket.MakePrivateDir(dir)
}
