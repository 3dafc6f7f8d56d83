package proc

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// The watchdog makes children die with the supervisor's process, even by SIGKILL, where the
// kernel has no parent-death signal (macOS), and on Linux when Options.Watchdog forces it.
//
// The supervisor holds both ends of one pipe for its whole life and never writes to it. Each
// child starts as the watchdog command in "exec" mode, with the pipe's read end as fd 3:
//
//	supervisor ──fork──► W = WATCHDOG… exec PATH ARGV…   (own process group, pgid = W's pid)
//	                     W ──fork──► X = WATCHDOG… watch (inherits the group; stdin = read end)
//	                     W ──execve(PATH, ARGV)──► the child itself, same pid
//
// X blocks reading its stdin. Once every copy of the write end is closed, which happens when
// the supervisor's process ends however it ends, the read returns EOF and X kills its own
// process group, the child and all it started. While X lives the group id cannot be reused, so
// the supervisor's own kill of the group after the leader exits is safe even where the leader
// was already reaped; that kill ends X too. X ignores the polite signals, so a SIGTERM to the
// group leaves the guard in place until the child is gone.

// Watchdog modes, the word after the watchdog command.
const (
	watchdogExec  = "exec"
	watchdogWatch = "watch"
)

// watchdogFD is where the pipe's read end reaches the exec-mode watchdog (ExtraFiles[0]).
const watchdogFD = 3

// watchdog is the supervisor's side: the command that runs RunWatchdog and the pipe.
type watchdog struct {
	path   string   // the watchdog command's program, resolved
	prefix []string // the watchdog command, argv[0] included
	r, w   *os.File // the pipe; closed by close, after the last child is gone
}

func newWatchdog(command []string) (*watchdog, error) {
	path, err := exec.LookPath(command[0])
	if err != nil {
		return nil, fmt.Errorf("proc: watchdog command: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("proc: watchdog pipe: %w", err)
	}
	return &watchdog{path: path, prefix: slices.Clone(command), r: r, w: w}, nil
}

// wrap turns cmd, built by exec.Command, into the same command started through the watchdog.
// The program is checked here, so that a missing binary fails Start as it would without the
// watchdog, with an error wrapping exec.ErrNotFound or fs.ErrNotExist.
func (wd *watchdog) wrap(cmd *exec.Cmd) error {
	if cmd.Err != nil {
		return cmd.Err // a bare name not found on PATH
	}
	if path := cmd.Path; strings.ContainsRune(path, filepath.Separator) {
		if !filepath.IsAbs(path) && cmd.Dir != "" {
			path = filepath.Join(cmd.Dir, path) // where the child will look
		}
		if _, err := exec.LookPath(path); err != nil {
			return forkExecError(cmd.Path, err)
		}
	}
	args := append(slices.Clone(wd.prefix), watchdogExec, cmd.Path)
	cmd.Args = append(args, cmd.Args...)
	cmd.Path = wd.path
	cmd.ExtraFiles = []*os.File{wd.r}
	return nil
}

// forkExecError words a failed check of path as os/exec's Start would have, had it tried.
func forkExecError(path string, err error) error {
	errno := syscall.EACCES // a directory, or no execute permission
	var pe *os.PathError
	if errors.As(err, &pe) {
		if e, ok := pe.Err.(syscall.Errno); ok {
			errno = e
		}
	}
	return &os.PathError{Op: "fork/exec", Path: path, Err: errno}
}

func (wd *watchdog) close() {
	wd.w.Close() // every watcher still alive now kills its group
	wd.r.Close()
}

// RunWatchdog is the body of the watchdog command named in Options.Watchdog: a binary that
// offers it as a hidden subcommand calls it with the words that follow that command, and exits
// non-zero, saying why on stderr, if it returns an error. In exec mode it does not return when
// all goes well: the process becomes the child.
func RunWatchdog(args []string) error {
	if len(args) == 0 {
		return errors.New("watchdog: want exec PATH ARGV… or watch")
	}
	switch args[0] {
	case watchdogExec:
		if len(args) < 3 {
			return errors.New("watchdog exec: want PATH ARGV…")
		}
		// The command that started this process, without the words given to RunWatchdog.
		prefix := os.Args[1 : len(os.Args)-len(args)]
		return watchdogRun(prefix, args[1], args[2:])
	case watchdogWatch:
		watch()
		return nil
	}
	return fmt.Errorf("watchdog: unknown mode %q", args[0])
}

// watchdogRun starts the watcher in this process's group, then becomes the child.
func watchdogRun(prefix []string, path string, argv []string) error {
	pipe := os.NewFile(watchdogFD, "watchdog pipe")
	if pipe == nil {
		return errors.New("watchdog exec: no pipe on fd 3")
	}
	// The watcher gets the pipe as its stdin; the child must not hold it.
	syscall.CloseOnExec(watchdogFD)
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("watchdog exec: finding own executable: %w", err)
	}
	watcher := exec.Command(self, append(slices.Clone(prefix), watchdogWatch)...)
	watcher.Stdin = pipe // stdout and stderr: /dev/null, so it never holds the child's output open
	if err := watcher.Start(); err != nil {
		// Refusing to run unguarded: the supervisor sees a failed start.
		return fmt.Errorf("watchdog exec: starting the watcher: %w", err)
	}
	pipe.Close()
	err = syscall.Exec(path, argv, os.Environ())
	return fmt.Errorf("watchdog exec: %s: %w", path, err)
}

// watch waits for the supervisor's end of the pipe to close, then kills its process group,
// itself included.
func watch() {
	signal.Ignore(syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	// Nothing is ever written: Copy returns at EOF (or an error, as good a sign of the end).
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = syscall.Kill(0, syscall.SIGKILL)
}
