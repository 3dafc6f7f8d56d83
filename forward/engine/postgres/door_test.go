package postgres_test

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rhizome-dev/rhizome/forward/engine/postgres"
	"github.com/rhizome-dev/rhizome/forward/engine/wire"
	"github.com/rhizome-dev/rhizome/forward/internal/loopback"
)

// door is a tiny front door on a loopback port: each connection is opened with
// postgres.Open and then relayed both ways, as the agent's door does.
type door struct {
	addr string
	mu   sync.Mutex
	errs []error // Open's errors, for the log's sake
}

func startDoor(t *testing.T, dial wire.Dial, l wire.Login) *door {
	t.Helper()
	d := &door{}
	d.addr = loopback.Serve(t, func(c net.Conn) {
		server, err := postgres.Open(t.Context(), c, dial, l)
		if err != nil {
			d.mu.Lock()
			d.errs = append(d.errs, err)
			d.mu.Unlock()
			return
		}
		relay(c, server)
	})
	return d
}

// errors returns Open's errors so far.
func (d *door) errors() []error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]error(nil), d.errs...)
}

func (d *door) port() string {
	_, port, _ := net.SplitHostPort(d.addr)
	return port
}

// relay copies both ways until either side ends, then closes both.
func relay(client, server net.Conn) {
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(server, client); done <- struct{}{} }()
	go func() { _, _ = io.Copy(client, server); done <- struct{}{} }()
	<-done
	client.Close()
	server.Close()
	<-done
}

// dialTo dials addr, as the door dials a forward's stream.
func dialTo(addr string) wire.Dial {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
}

// passwords is a login's password source that counts its calls.
type passwords struct {
	kept, fresh string
	err         error // returned instead of a password when set

	mu    sync.Mutex
	calls []bool // fresh, per call
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

func (p *passwords) called() []bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]bool(nil), p.calls...)
}

func (p *passwords) login(user string) wire.Login {
	return wire.Login{User: user, Password: p.get, Source: "password-command vault read db/test"}
}

// psqlCmd runs the real psql with conninfo and SQL, with no password from anywhere but the
// conninfo: no PGPASSWORD, no password file.
func psqlCmd(t *testing.T, conninfo, sql string) (string, error) {
	t.Helper()
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skipf("no psql: %v", err)
	}
	cmd := exec.CommandContext(t.Context(), psql, "-X", "-w", "-At", conninfo+" connect_timeout=10", "-c", sql)
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "PG") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Env = append(cmd.Env, "PGPASSFILE="+filepath.Join(t.TempDir(), "no-pgpass"))
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// noSecrets fails the test if any of secrets shows in texts.
func noSecrets(t *testing.T, secrets []string, texts ...string) {
	t.Helper()
	for _, s := range secrets {
		for _, text := range texts {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("a password shows in %q", text)
			}
		}
	}
}

func errorTexts(errs []error) []string {
	var out []string
	for _, err := range errs {
		out = append(out, err.Error())
	}
	return out
}
