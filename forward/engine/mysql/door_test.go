package mysql

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

// door plays the front door on a loopback port (or a Unix socket, for network "unix"): it
// opens each connection with Open, dialing through dial, then relays both ways until either
// side closes. Open's errors go to errs.
type door struct {
	addr string
	mu   sync.Mutex
	errs []error
}

func newDoor(t testing.TB, network string, dial wire.Dial, l wire.Login) *door {
	t.Helper()
	address := "127.0.0.1:0"
	if network == "unix" {
		dir, err := os.MkdirTemp("", "door")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		address = dir + "/sock"
	}
	ln, err := net.Listen(network, address)
	if err != nil {
		t.Fatal(err)
	}
	d := &door{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { d.serve(c, dial, l) })
		}
	})
	return d
}

func (d *door) serve(c net.Conn, dial wire.Dial, l wire.Login) {
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	server, err := Open(ctx, c, dial, l)
	cancel()
	if err != nil {
		d.mu.Lock()
		d.errs = append(d.errs, err)
		d.mu.Unlock()
		return
	}
	defer server.Close()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(server, c)
		server.Close()
		close(done)
	}()
	_, _ = io.Copy(c, server)
	c.Close()
	<-done
}

// openErrors returns the errors Open returned so far.
func (d *door) openErrors() []error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]error(nil), d.errs...)
}

// dialer dials network address as the door's wire.Dial.
func dialer(network, address string) wire.Dial {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, address)
	}
}

// passwords is a login's password command: it counts its calls, and answers kept or, when
// asked for a fresh one, fresh; err fails every call.
type passwords struct {
	mu          sync.Mutex
	kept, fresh string
	err         error
	calls       []bool // the fresh argument of each call
}

func (p *passwords) get(_ context.Context, fresh bool) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, fresh)
	if p.err != nil {
		return "", p.err
	}
	if fresh {
		return p.fresh, nil
	}
	return p.kept, nil
}

// Calls returns how many calls there were, and how many of them asked for a fresh password.
func (p *passwords) Calls() (all, fresh int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.calls {
		if f {
			fresh++
		}
	}
	return len(p.calls), fresh
}

// login is a wire.Login as user with p's passwords, from a made-up password command.
func (p *passwords) login(user string) wire.Login {
	return wire.Login{User: user, Password: p.get, Source: "password-command print-password"}
}

// mariadbClient runs the real mariadb client at the door's addr (a TCP address or a socket
// path) with args, and returns its output and error.
func mariadbClient(t testing.TB, addr string, args ...string) (string, error) {
	t.Helper()
	client, err := exec.LookPath("mariadb")
	if err != nil {
		t.Skip("no mariadb client: install Debian's mariadb-client")
	}
	full := []string{"--no-defaults", "--connect-timeout=10", "--batch", "--skip-column-names"}
	if host, port, err := net.SplitHostPort(addr); err == nil {
		full = append(full, "--protocol=tcp", "-h", host, "-P", port)
	} else {
		full = append(full, "--protocol=socket", "-S", addr)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, client, append(full, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// goDSN is go-sql-driver's data source name for user (and password, if any) at the door's
// addr, with database db.
func goDSN(addr, user, password, db string) string {
	cred := user
	if password != "" {
		cred += ":" + password
	}
	network := "tcp"
	if _, _, err := net.SplitHostPort(addr); err != nil {
		network = "unix"
	}
	return fmt.Sprintf("%s@%s(%s)/%s?timeout=10s", cred, network, addr, db)
}

// isNoGreeting reports whether errs hold one that wraps wire.ErrNoGreeting.
func isNoGreeting(errs []error) bool {
	for _, err := range errs {
		if errors.Is(err, wire.ErrNoGreeting) {
			return true
		}
	}
	return false
}
