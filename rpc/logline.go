package rpc

import (
	"strconv"
	"time"
)

// Streams a LogLine can come from.
const (
	StreamStdout = "stdout"
	StreamStderr = "stderr"
	StreamEvent  = "event"
)

// LogLine is one line of a supervised process's output, or one event about it.
type LogLine struct {
	Time   time.Time `json:"time"`
	ID     int64     `json:"id"`
	PID    int       `json:"pid"`
	Name   string    `json:"name"`
	Stream string    `json:"stream"`
	Text   string    `json:"text"`
}

// messageWidth is the column the seed's log format pads messages to.
const messageWidth = 30

// AppendLogLine appends one line in the seed's log format, newline included:
//
//	22:46:06 subprocess started             [sleeper] pid=93302
//
// The format is written once, in appendHead, appendText and appendTail; LogLineFormatter
// caches the head and tail for runs of lines. It formats by hand because the agent's logfile
// writes millions of lines a second through it.
func AppendLogLine(b []byte, t time.Time, text, name string, pid int) []byte {
	return appendTail(appendText(appendHead(b, t), text), name, pid)
}

// AppendDatedLogLine is AppendLogLine with the date before the time, as the agent's logfile
// writes it (an agent runs for days):
//
//	2026-12-05 22:46:06 subprocess started             [sleeper] pid=93302
func AppendDatedLogLine(b []byte, t time.Time, text, name string, pid int) []byte {
	return appendTail(appendText(appendHead(appendDate(b, t), t), text), name, pid)
}

// appendHead appends what comes before the text: "15:04:05 ".
func appendHead(b []byte, t time.Time) []byte { return append(appendClock(b, t), ' ') }

// appendDate appends t's date and a space: "2026-12-05 ".
func appendDate(b []byte, t time.Time) []byte {
	y, m, d := t.Date()
	b = strconv.AppendInt(b, int64(y), 10)
	return append(b, '-', byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10), ' ')
}

// appendText appends the text, padded to messageWidth.
func appendText(b []byte, text string) []byte {
	b = append(b, text...)
	if len(text) < messageWidth {
		b = append(b, spaces[len(text):]...)
	}
	return b
}

// appendTail appends what comes after the text: " [name] pid=N\n", or " [name]\n" for a line
// of no process (a forward between attempts, or one whose streams run in the agent).
func appendTail(b []byte, name string, pid int) []byte {
	b = append(append(append(b, " ["...), name...), ']')
	if pid == 0 {
		return append(b, '\n')
	}
	b = append(b, " pid="...)
	return append(strconv.AppendInt(b, int64(pid), 10), '\n')
}

// spaces pads messages to messageWidth.
const spaces = "                              "

// LogLineFormatter appends lines in the seed's log format, byte for byte as AppendLogLine does,
// for a writer of many lines: what comes before and after the text is formatted once for a run
// of lines that share their time, name and pid (as the lines of one read of a child's output
// do), instead of once per line. With Dated, each line starts with the date, as
// AppendDatedLogLine writes it. Its zero value is ready to use; it is not safe for concurrent
// use.
type LogLineFormatter struct {
	Dated bool

	ok   bool // head and tail below are set
	t    time.Time
	name string
	pid  int
	head []byte // "15:04:05 ", or "2026-12-05 15:04:05 "
	tail []byte // " [name] pid=N\n"
}

// Append appends one line, as AppendLogLine(b, t, text, name, pid).
func (f *LogLineFormatter) Append(b []byte, t time.Time, text, name string, pid int) []byte {
	if !f.ok || t != f.t {
		f.t = t
		f.head = f.head[:0]
		if f.Dated {
			f.head = appendDate(f.head, t)
		}
		f.head = appendHead(f.head, t)
	}
	if !f.ok || name != f.name || pid != f.pid {
		f.name, f.pid = name, pid
		f.tail = appendTail(f.tail[:0], name, pid)
	}
	f.ok = true
	return append(appendText(append(b, f.head...), text), f.tail...)
}

// Format renders l in the seed's log format, without the newline.
func (l LogLine) Format() string {
	b := AppendLogLine(make([]byte, 0, 64+len(l.Text)), l.Time.Local(), l.Text, l.Name, l.PID)
	return string(b[:len(b)-1])
}

// appendClock appends t as HH:MM:SS without going through time.Format's layout parser.
func appendClock(b []byte, t time.Time) []byte {
	h, m, s := t.Clock()
	return append(b, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10), ':', byte('0'+s/10), byte('0'+s%10))
}
