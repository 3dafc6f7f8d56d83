package proc

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Spec describes a Process. The Supervisor copies it at Start. The hooks are
// called from the Process's own goroutine, one at a time. They may call the
// Process's methods, except Stop, which waits for that goroutine and so for
// the hook itself (call it from another goroutine, or use Kick). A hook
// should return soon after its ctx is cancelled: until it does, Stop and
// Shutdown wait.
type Spec struct {
	Name string   // e.g. "sleeper", "na-prod/bookkeeper"; need not be unique
	Kind string   // e.g. "sleeper", "forward"
	Argv []string // the command, used when Prepare is nil
	Env  []string // appended to os.Environ()
	Dir  string   // working directory; "" is the supervisor's

	// Prepare, when set, runs before every attempt and returns the argv to
	// run. Its error counts as a failed attempt. It may emit lines with
	// p.Logf. ctx is cancelled when the process is stopped.
	Prepare func(ctx context.Context, p *Process) ([]string, error)

	// Ready, when set, runs after each child starts; the state stays Starting
	// (or Restarting) until it returns nil, then becomes Ready. An error kills
	// the child and counts as a failed attempt. ctx is cancelled when the
	// child has exited (by then all its output is in Lines) or the process is
	// stopped. With Ready nil the state becomes Running as soon as the child
	// started.
	Ready func(ctx context.Context, p *Process) error

	// Health, when set, runs every HealthInterval (default 10s) while the
	// state is Ready or Running; an error kills the child, which then
	// restarts under Restart. ctx is as for Ready.
	Health         func(ctx context.Context, p *Process) error
	HealthInterval time.Duration

	Restart RestartPolicy

	// Run, when set, makes each attempt a task inside the supervisor's own process rather
	// than a child: after Prepare (whose argv, if any, only describes the attempt in Info),
	// Run is called with a ctx that a Kick, a failed check or a stop cancels, and the attempt
	// lasts until Run returns. A task has no pid; its error is the attempt's exit reason.
	// Ready and Health work as for a child.
	Run func(ctx context.Context, p *Process) error
}

const defaultHealthInterval = 10 * time.Second

// validate reports what is wrong with s, wrapping ErrBadSpec.
func (s *Spec) validate() error {
	switch {
	case s.Name == "":
		return fmt.Errorf("%w: empty Name", ErrBadSpec)
	case s.Run == nil && s.Prepare == nil && len(s.Argv) == 0:
		return fmt.Errorf("%w: %s: empty Argv and no Prepare or Run", ErrBadSpec, s.Name)
	case s.Run == nil && s.Prepare == nil && s.Argv[0] == "":
		return fmt.Errorf("%w: %s: empty Argv[0]", ErrBadSpec, s.Name)
	case s.HealthInterval < 0:
		return fmt.Errorf("%w: %s: negative HealthInterval", ErrBadSpec, s.Name)
	}
	return nil
}

// clone returns a copy of s that shares no slices with it, so that callers
// may reuse theirs.
func (s Spec) clone() Spec {
	s.Argv = slices.Clone(s.Argv)
	s.Env = slices.Clone(s.Env)
	if s.Health != nil && s.HealthInterval == 0 {
		s.HealthInterval = defaultHealthInterval
	}
	return s
}
