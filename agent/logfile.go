package agent

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/rhizome-dev/rhizome/proc"
	"github.com/rhizome-dev/rhizome/rpc"
)

// DefaultLogMax is the size at which the logfile is rotated to agent.log.1.
const DefaultLogMax = 10 << 20

// reopenEvery limits how often a logfile that failed is tried again.
const reopenEvery = 5 * time.Second

// logFile is the agent's logfile: children's lines (as a proc.Sink) and the agent's own events
// (as logrus's io.Writer) go through it, so both share one lock and one line format, with the
// date (rpc.AppendDatedLogLine): an agent runs for days. It is
// capped in size and rotated. A write error never stops the agent: it is remembered, reported
// by Warning, and the file is tried again later. Safe for concurrent use.
type logFile struct {
	path string
	max  int64
	tee  io.Writer // also gets every byte (stderr under -D); may be nil

	mu       sync.Mutex
	f        *os.File
	ino      uint64 // f's inode, to notice another agent's rotation of a shared logfile
	size     int64
	buf      []byte
	fmt      rpc.LogLineFormatter
	err      error
	failedAt time.Time
}

func openLogFile(path string, max int64, tee io.Writer) *logFile {
	l := &logFile{path: path, max: max, tee: tee, fmt: rpc.LogLineFormatter{Dated: true}}
	l.mu.Lock()
	l.openLocked()
	l.mu.Unlock()
	return l
}

func (l *logFile) openLocked() {
	if l.path == "" {
		return
	}
	if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
		l.failLocked(err)
		return
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		l.failLocked(err)
		return
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		l.failLocked(err)
		return
	}
	l.f, l.ino, l.size, l.err = f, uint64(st.Ino), st.Size, nil
}

// movedLocked reports whether the file at path is no longer the one being written: another
// agent sharing the logfile (-a with the same XDG_STATE_HOME) rotated it.
func (l *logFile) movedLocked() bool {
	var st syscall.Stat_t
	return syscall.Lstat(l.path, &st) != nil || uint64(st.Ino) != l.ino
}

func (l *logFile) failLocked(err error) {
	l.err, l.failedAt = err, time.Now()
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

// WriteLines implements proc.Sink: the whole batch is formatted into one buffer and written
// with one system call. The lines of a batch share time, name and pid, which the formatter
// formats once.
func (l *logFile) WriteLines(lines []proc.Line) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buf[:0]
	for i := range lines {
		ln := &lines[i]
		b = l.fmt.Append(b, ln.Time, ln.Text, ln.Name, ln.PID)
	}
	l.buf = b
	l.writeLocked(b)
}

// Write implements io.Writer for logrus, whose formatter already produced a whole line.
func (l *logFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writeLocked(p)
	return len(p), nil
}

func (l *logFile) writeLocked(p []byte) {
	if l.tee != nil {
		_, _ = l.tee.Write(p)
	}
	if l.f == nil {
		if l.path == "" || time.Since(l.failedAt) < reopenEvery {
			return
		}
		l.openLocked()
		if l.f == nil {
			return
		}
	}
	if l.movedLocked() {
		l.f.Close()
		l.f = nil
		if l.openLocked(); l.f == nil {
			return
		}
	}
	if l.max > 0 && l.size+int64(len(p)) > l.max {
		l.rotateLocked()
		if l.f == nil {
			return
		}
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	if err != nil {
		l.failLocked(err)
	}
}

// rotateLocked keeps one previous file, agent.log.1, as logrotate's simplest setting does.
// Agents that share the logfile rotate it one at a time (an flock on it), and only the file
// still at path: one that another agent rotated a moment ago is written on, not rotated away.
func (l *logFile) rotateLocked() {
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_EX) // released when the file is closed
	moved := l.movedLocked()
	l.f.Close()
	l.f = nil
	if !moved {
		if err := os.Rename(l.path, l.path+".1"); err != nil && !os.IsNotExist(err) {
			l.failLocked(err)
			return
		}
	}
	l.openLocked()
}

// Warning describes the logfile's trouble, or "" when it is being written.
func (l *logFile) Warning() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		return ""
	}
	return fmt.Sprintf("logfile %s is not being written: %v", l.path, l.err)
}

// Close closes the file.
func (l *logFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
