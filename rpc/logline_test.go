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

// TestDatedLogLine: the logfile's lines carry the date before the seed's clock, and the batch
// formatter writes them byte for byte as AppendDatedLogLine does.
func TestDatedLogLine(t *testing.T) {
	at := time.Date(2026, 3, 7, 9, 5, 1, 0, time.Local)
	want := "2026-03-07 09:05:01 subprocess started             [sleeper] pid=93302\n"
	if got := string(AppendDatedLogLine(nil, at, "subprocess started", "sleeper", 93302)); got != want {
		t.Errorf("AppendDatedLogLine = %q, want %q", got, want)
	}
	f := LogLineFormatter{Dated: true}
	if got := string(f.Append(nil, at, "subprocess started", "sleeper", 93302)); got != want {
		t.Errorf("LogLineFormatter{Dated: true}.Append = %q, want %q", got, want)
	}
}

// A line of no process (a forward whose streams run in the agent) says no pid rather than pid=0.
func TestLogLineWithoutProcess(t *testing.T) {
	at := time.Date(2026, 3, 7, 9, 5, 1, 0, time.Local)
	want := "09:05:01 ready                          [na-prod/bookkeeper]\n"
	if got := string(AppendLogLine(nil, at, "ready", "na-prod/bookkeeper", 0)); got != want {
		t.Errorf("AppendLogLine(pid 0) = %q, want %q", got, want)
	}
}
