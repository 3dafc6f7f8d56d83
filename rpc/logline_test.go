package rpc

import (
	"strings"
	"testing"
	"time"
)

// TestLogLineFormatter checks that the batch formatter writes what AppendLogLine writes, byte
// for byte, whatever changes from one line to the next.
func TestLogLineFormatter(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 22, 46, 6, 5e8, time.Local)
	type line struct {
		t    time.Time
		text string
		name string
		pid  int
	}
	var lines []line
	for n := 0; n <= messageWidth+2; n++ {
		lines = append(lines, line{t0, strings.Repeat("x", n), "sleeper", 93302})
	}
	lines = append(lines,
		line{t0, "same time, other name", "na-prod/bookkeeper", 93302},
		line{t0, "same name, other pid", "na-prod/bookkeeper", 7},
		line{t0.Add(time.Second), "next second", "na-prod/bookkeeper", 7},
		line{t0.Add(time.Second).UTC(), "same instant, other zone", "na-prod/bookkeeper", 7},
		line{time.Time{}, "zero time", "", 0},
		line{t0, "héllo wörld", "sleeper", 93302},
	)
	var f LogLineFormatter
	var got, want []byte
	for _, l := range lines {
		got = f.Append(got, l.t, l.text, l.name, l.pid)
		want = AppendLogLine(want, l.t, l.text, l.name, l.pid)
	}
	if string(got) != string(want) {
		t.Errorf("LogLineFormatter.Append gave\n%s\nwant (AppendLogLine)\n%s", got, want)
	}
}
