package proc

import (
	"strconv"
	"time"
)

// Stream says where a Line came from.
type Stream uint8

const (
	Stdout Stream = iota // the child's standard output
	Stderr               // the child's standard error
	Event                // the supervisor, about the process (see the package doc)
)

// String returns "stdout", "stderr" or "event".
func (s Stream) String() string {
	switch s {
	case Stdout:
		return "stdout"
	case Stderr:
		return "stderr"
	case Event:
		return "event"
	}
	return "stream(" + strconv.Itoa(int(s)) + ")"
}

// Line is one line of a child's output or one supervisor event. Lines are
// values; their Text may share memory with other lines of the same read, which
// is why a Line is cheap to keep.
type Line struct {
	Time   time.Time // when the supervisor read it; all lines of one read share it
	ID     int64     // the Process's ID, stable across restarts
	PID    int       // OS pid of the child that printed it (0 if none running)
	Name   string    // the Process's name
	Stream Stream
	Text   string // without the trailing newline
}

// Sink receives every line, in order, synchronously, in batches, from the
// goroutine that read them. Calls are serialized by the Supervisor, so a Sink
// need not lock, but it must be fast: while it runs, no other output moves.
// It must not retain the slice (the lines themselves may be kept) and must not
// call back into the Supervisor. The agent's logfile is a Sink.
type Sink interface {
	WriteLines(lines []Line)
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(lines []Line)

// WriteLines calls f(lines).
func (f SinkFunc) WriteLines(lines []Line) { f(lines) }
