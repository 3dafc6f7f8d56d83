package forward

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"syscall"
	"time"

	"github.com/rhizome-dev/rhizome/forward/door"
	"github.com/rhizome-dev/rhizome/forward/engine"
	"github.com/rhizome-dev/rhizome/forward/kube"
	"github.com/rhizome-dev/rhizome/proc"
	"github.com/rhizome-dev/rhizome/rpc/safesocket"
)

// simulatedSpec runs the simulation as a forward's back end: a child that answers on a
// private socket in the agent's own directory, which the door dials per connection.
func (m *Manager) simulatedSpec(spec proc.Spec, c *chain) (proc.Spec, *chain, error) {
	b := &unixBackend{path: filepath.Join(m.opts.PrivateDir, "s-"+door.ShortHash(fmt.Sprint(c.req.key()))+".sock")}
	spec.Kind = KindSimulated
	spec.Run, spec.Health = nil, nil // a child of its own, which proc watches
	spec.Prepare = func(context.Context, *proc.Process) ([]string, error) {
		c.door.Down()
		if err := kube.PrivateDir(m.opts.PrivateDir); err != nil {
			return nil, err
		}
		return simulatedArgv(m.opts.Executable, c.req, b.path), nil
	}
	spec.Ready = func(ctx context.Context, p *proc.Process) error {
		for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
			version, err := engine.ProbeThrough(ctx, c.req.Engine, b.Dial)
			if err == nil {
				p.Logf("ready: %s answers on 127.0.0.1:%d (server %s, simulated)", c.req.SQLConnection, c.door.Port(), version)
				c.door.Up(b)
				return nil
			}
			select {
			case <-ctx.Done():
				return errors.New("the simulation ended before it answered")
			case <-time.After(wait):
			}
		}
	}
	return spec, c, nil
}

// unixBackend is a back end on a private Unix socket of the agent's.
type unixBackend struct{ path string }

func (b *unixBackend) Dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "unix", b.path)
}

func (b *unixBackend) String() string { return b.path }

// RemovePrivateDir removes the agent's private directory (Options.PrivateDir) once every
// forward and kubectl proxy has ended: the sockets left in it (a kubectl proxy does not remove
// its own when it is stopped), then the directory itself if that leaves it empty.
func RemovePrivateDir(dir string) {
	if safesocket.CheckPrivateDir(dir) != nil {
		return // gone already, or not ours to clean
	}
	kube.RemoveStale(dir)
	_ = syscall.Rmdir(dir)
}
