package proc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Errors returned by this package. Compare with errors.Is: most are wrapped
// with details.
var (
	ErrNotFound   = errors.New("proc: no such process") // for callers: Lookup/Get found nothing
	ErrTooMany    = errors.New("proc: too many processes")
	ErrShutdown   = errors.New("proc: supervisor shut down")
	ErrLagging    = errors.New("proc: subscriber too slow, dropped")
	ErrBadSpec    = errors.New("proc: invalid spec")
	ErrNotRunning = errors.New("proc: not running")
)

// Options configure a Supervisor. The zero value is usable: every field has
// a default.
type Options struct {
	Sink         Sink          // receives every line; may be nil
	RingLines    int           // recent lines kept per process; default 200
	Retain       time.Duration // how long a finished process stays reachable via Lookup, Get and Logs; default 10m
	Grace        time.Duration // between SIGTERM and SIGKILL to the process group; default 5s
	MaxProcesses int           // live (non-terminal) processes at once; default 1000
	// Watchdog, when set, is a command whose program calls RunWatchdog with the words that
	// follow it, e.g. {"/usr/local/bin/rhizome", "_watchdog"}. Every child then starts through
	// it and dies with the supervisor's process even by SIGKILL, where Linux's Pdeathsig is
	// missing (HasPdeathsig false). On Linux it replaces Pdeathsig; nil keeps Pdeathsig there
	// and means no such guarantee elsewhere.
	Watchdog []string
	// Logf receives the supervisor's own diagnostics (not child output); may
	// be nil. It is called from any goroutine, possibly with internal locks
	// held: it must not call back into the Supervisor.
	Logf func(format string, args ...any)
}

const (
	defaultRingLines    = 200
	defaultRetain       = 10 * time.Minute
	defaultGrace        = 5 * time.Second
	defaultMaxProcesses = 1000
)

// Supervisor starts and supervises processes. It is safe for concurrent use.
// Create one with New; the zero value is not usable. The owner must call
// Shutdown, which stops every process and ends the Supervisor's goroutines.
type Supervisor struct {
	opts Options

	// spawnc feeds the spawner goroutine, the only one that forks (see
	// spawn.go). quit ends it; spawnerDone is closed when it has.
	spawnc      chan spawnReq
	quit        chan struct{}
	spawnerDone chan struct{}

	// watchdog is set when Options.Watchdog is; watchdogErr says why it could not be.
	watchdog    *watchdog
	watchdogErr error

	shutdownOnce sync.Once
	shutdownDone chan struct{} // closed when Shutdown has finished everything

	// wg counts the run goroutines of processes, each of which outlives its
	// children's goroutines.
	wg sync.WaitGroup

	mu       sync.Mutex
	procs    map[int64]*Process // every process not yet forgotten
	ended    []endedProc        // terminal processes in the order they ended, for Retain
	nextID   int64
	live     int // processes not yet terminal
	shutdown bool

	// outMu serializes output: the Sink, every ring, the subscribers.
	outMu      sync.Mutex
	subs       []*Subscription
	subsClosed bool

	watch watchers // the StateWatches
}

type endedProc struct {
	p  *Process
	at time.Time
}

// New returns a running Supervisor configured by opts.
func New(opts Options) *Supervisor {
	if opts.RingLines <= 0 {
		opts.RingLines = defaultRingLines
	}
	if opts.Retain <= 0 {
		opts.Retain = defaultRetain
	}
	if opts.Grace <= 0 {
		opts.Grace = defaultGrace
	}
	if opts.MaxProcesses <= 0 {
		opts.MaxProcesses = defaultMaxProcesses
	}
	s := &Supervisor{
		opts:         opts,
		spawnc:       make(chan spawnReq),
		quit:         make(chan struct{}),
		spawnerDone:  make(chan struct{}),
		shutdownDone: make(chan struct{}),
		procs:        make(map[int64]*Process),
	}
	if len(opts.Watchdog) > 0 {
		s.watchdog, s.watchdogErr = newWatchdog(opts.Watchdog)
	}
	go s.spawner()
	return s
}

func (s *Supervisor) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

// Start starts a Process described by spec. It returns once the first child
// has started or, with Prepare set, once the first Prepare is under way; the
// rest happens asynchronously. ctx bounds only this call (its values reach
// the hooks): the Process runs until it ends, Stop or Shutdown.
//
// Start fails for an invalid spec (ErrBadSpec), when MaxProcesses are live
// (ErrTooMany), after Shutdown (ErrShutdown) and, when Prepare is nil, when
// the first child cannot be started, e.g. because the binary is missing; that
// error wraps the exec error (exec.ErrNotFound, fs.ErrNotExist, …).
func (s *Supervisor) Start(ctx context.Context, spec Spec) (*Process, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.watchdogErr != nil {
		return nil, s.watchdogErr
	}
	s.mu.Lock()
	s.sweepLocked(time.Now())
	if s.shutdown {
		s.mu.Unlock()
		return nil, ErrShutdown
	}
	if s.live >= s.opts.MaxProcesses {
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %d live, the limit", ErrTooMany, s.live)
	}
	s.nextID++
	p := newProcess(ctx, s, s.nextID, spec.clone())
	// Registered before its first child starts, so that a concurrent
	// Shutdown sees it and stops it.
	s.procs[p.id] = p
	s.live++
	s.wg.Add(1) // before s.mu is released: Shutdown's Wait must see it
	s.mu.Unlock()
	p.mu.Lock()
	p.publishLocked(Starting, "")
	p.mu.Unlock()

	var first *child
	if p.spec.Prepare == nil && p.spec.Run == nil {
		c, err := p.startChild(p.spec.Argv)
		if err != nil {
			err = fmt.Errorf("starting %s: %w", p.spec.Name, err)
			p.mu.Lock()
			p.publishLocked(Failed, err.Error())
			p.mu.Unlock()
			s.mu.Lock()
			delete(s.procs, p.id)
			s.live--
			s.mu.Unlock()
			p.cancel()
			s.wg.Done()
			return nil, err
		}
		first = c
		if p.spec.Ready == nil {
			// Running before Start returns, so the caller's next List already says so.
			p.becomeUp(c, Running)
		}
	}
	go p.run(first)
	return p, nil
}

// processEnded records that p reached a terminal state, freeing its slot.
func (s *Supervisor) processEnded(p *Process, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.live--
	s.ended = append(s.ended, endedProc{p, at})
	s.sweepLocked(time.Now())
}

// sweepLocked forgets processes that ended more than Retain ago. Since Retain
// is the same for all, they are a prefix of s.ended, so this costs nothing
// when nothing expires; no timer or goroutine is needed.
func (s *Supervisor) sweepLocked(now time.Time) {
	i := 0
	for ; i < len(s.ended) && now.Sub(s.ended[i].at) >= s.opts.Retain; i++ {
		delete(s.procs, s.ended[i].p.id)
		s.ended[i] = endedProc{}
	}
	s.ended = s.ended[i:]
}

// all returns the processes not yet forgotten, ordered by ID.
func (s *Supervisor) all() []*Process {
	s.mu.Lock()
	s.sweepLocked(time.Now())
	ps := make([]*Process, 0, len(s.procs))
	for _, p := range s.procs {
		ps = append(ps, p)
	}
	s.mu.Unlock()
	slices.SortFunc(ps, func(a, b *Process) int { return cmp.Compare(a.id, b.id) })
	return ps
}

// List returns the live processes, ordered by ID: those not Exited or
// Stopped. Failed ones stay listed, so that people see why, until Retain
// expires or they are Stopped.
func (s *Supervisor) List() []Info {
	var out []Info
	for _, p := range s.all() {
		if !p.listed() {
			continue
		}
		out = append(out, p.Info())
	}
	return out
}

// Lookup returns the processes, live or retained, ordered by ID, whose name
// is pidOrName or, when it is a number, whose current or a former child had
// that pid. Process IDs are not matched (use Get): pids and IDs are both
// small numbers and would be confused.
func (s *Supervisor) Lookup(pidOrName string) []*Process {
	pid, err := strconv.Atoi(pidOrName)
	if err != nil || pid <= 0 {
		pid = -1
	}
	var out []*Process
	for _, p := range s.all() {
		if p.spec.Name == pidOrName || (pid > 0 && p.hadPID(pid)) {
			out = append(out, p)
		}
	}
	return out
}

// Get returns the process with the given ID, live or retained.
func (s *Supervisor) Get(id int64) (*Process, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(time.Now())
	p, ok := s.procs[id]
	return p, ok
}

// Logs returns the last n lines (n <= 0: all that are kept) of the processes,
// live or retained, whose Info filter accepts (nil accepts all), oldest first.
func (s *Supervisor) Logs(filter func(Info) bool, n int) []Line {
	var ps []*Process
	for _, p := range s.all() {
		if filter == nil || filter(p.Info()) {
			ps = append(ps, p)
		}
	}
	var out []Line
	s.outMu.Lock()
	for _, p := range ps {
		out = append(out, p.ring.last(n)...)
	}
	s.outMu.Unlock()
	if len(ps) > 1 {
		// Each ring is in order; a stable sort keeps it so for equal times.
		slices.SortStableFunc(out, func(a, b Line) int { return a.Time.Compare(b.Time) })
	}
	if n > 0 && len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}

// Shutdown stops every process (SIGTERM to its group, SIGKILL after Grace),
// waits for them and for every goroutine of the Supervisor, and closes the
// subscriptions with ErrShutdown. Start then returns ErrShutdown. If ctx ends
// first, Shutdown sends SIGKILL to every group and returns ctx's error;
// the goroutines finish on their own. It is safe to call more than once.
func (s *Supervisor) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	s.mu.Unlock()
	ps := s.all()
	for _, p := range ps {
		p.requestStop()
	}
	s.shutdownOnce.Do(func() { go s.finish() })
	select {
	case <-s.shutdownDone:
		return nil
	case <-ctx.Done():
		for _, p := range ps {
			p.killNow()
		}
		return fmt.Errorf("proc: shutdown: %w", ctx.Err())
	}
}

// finish waits for every process, then ends the subscriptions, the
// spawner and the watchdog's pipe. Only then may the spawner's thread exit
// (its exit kills, by Pdeathsig, any child it started) and the pipe close
// (which makes every watcher kill its group).
func (s *Supervisor) finish() {
	s.wg.Wait()
	s.outMu.Lock()
	for _, sub := range s.subs {
		sub.closeLocked(ErrShutdown)
	}
	s.subs = nil
	s.subsClosed = true
	s.outMu.Unlock()
	s.closeWatches()
	close(s.quit)
	<-s.spawnerDone
	if s.watchdog != nil {
		s.watchdog.close()
	}
	close(s.shutdownDone)
}
