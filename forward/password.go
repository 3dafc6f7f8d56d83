package forward

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rhizome-dev/rhizome/forward/engine/wire"
)

// passwordTimeout bounds one run of a password command: a command that hangs (a prompt no one
// sees, a network that is gone) must not hold the clients waiting at the door.
const passwordTimeout = 20 * time.Second

// passwords runs a forward's password command and keeps what it printed for ttl. Clients that
// arrive while it runs share that run. Neither the password nor the command's output is ever
// logged or put in an error: an error quotes the last line of the command's stderr only.
type passwords struct {
	argv    []string
	ttl     time.Duration // 0: a run for every connection
	timeout time.Duration // bounds one run

	mu      sync.Mutex
	kept    string
	keptAt  time.Time
	running chan struct{} // closed when the run in progress ends; nil when none runs
	result  passwordRun   // of the latest run
}

type passwordRun struct {
	password string
	err      error
}

// loginOf is the door's login for r, or nil when r asks for none.
func loginOf(r Request) *wire.Login {
	if len(r.PasswordCommand) == 0 {
		return nil
	}
	p := &passwords{argv: r.PasswordCommand, ttl: r.PasswordTTL, timeout: passwordTimeout}
	return &wire.Login{User: r.User, Password: p.password, Source: p.name()}
}

// password returns the kept password while it is younger than ttl and fresh is false, else the
// output of a new run.
func (p *passwords) password(ctx context.Context, fresh bool) (string, error) {
	p.mu.Lock()
	if !fresh && p.kept != "" && p.ttl > 0 && time.Since(p.keptAt) < p.ttl {
		defer p.mu.Unlock()
		return p.kept, nil
	}
	running := p.running
	if running == nil {
		running = make(chan struct{})
		p.running = running
		go p.run(running)
	}
	p.mu.Unlock()
	select {
	case <-running:
	case <-ctx.Done():
		return "", fmt.Errorf("%s: %w", p.name(), ctx.Err())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.result.password, p.result.err
}

// run runs the command once and publishes its result, closing done.
func (p *passwords) run(done chan struct{}) {
	pw, err := p.runCommand()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.result = passwordRun{pw, err}
	if err == nil {
		p.kept, p.keptAt = pw, time.Now()
	} else {
		p.kept = ""
	}
	p.running = nil
	close(done)
}

// runCommand runs argv (no shell) and returns the first line of its output.
func (p *passwords) runCommand() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.argv[0], p.argv[1:]...)
	cmd.Env = os.Environ()
	cmd.Dir = "/" // never the agent's working directory
	cmd.SysProcAttr = dieWithAgent()
	cmd.SysProcAttr.Setpgid = true // so a timeout ends whatever the command started too
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "", fmt.Errorf("%s printed no password within %v", p.name(), p.timeout)
	case err != nil:
		if last := lastLine(stderr.String()); last != "" {
			return "", fmt.Errorf("%s failed (%v): %s", p.name(), err, last)
		}
		return "", fmt.Errorf("%s failed: %v", p.name(), err)
	}
	pw, _, _ := strings.Cut(stdout.String(), "\n")
	pw = strings.TrimSuffix(pw, "\r")
	if pw == "" {
		return "", fmt.Errorf("%s printed no password (its first line of output is empty)", p.name())
	}
	return pw, nil
}

// name is how errors name the command: password-command and its program.
func (p *passwords) name() string { return "password-command " + strings.Join(p.argv, " ") }

// lastLine is the last non-empty line of s, trimmed to what a database client shows well.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if len(last) > 200 {
		last = last[:200] + "…"
	}
	return last
}
