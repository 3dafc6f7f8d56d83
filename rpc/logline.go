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
// It formats by hand because the agent's logfile writes millions of lines a second through it.
func AppendLogLine(b []byte, t time.Time, text, name string, pid int) []byte {
	b = appendClock(b, t)
	b = append(b, ' ')
	b = append(b, text...)
	for i := len(text); i < messageWidth; i++ {
		b = append(b, ' ')
	}
	b = append(b, " ["...)
	b = append(b, name...)
	b = append(b, "] pid="...)
	b = strconv.AppendInt(b, int64(pid), 10)
	return append(b, '\n')
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
