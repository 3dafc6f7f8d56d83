package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSharedLogfileKeepsItsHistory: two agents (two logFiles, as two processes would have)
// write one logfile, small enough to rotate often. Whichever rotates, the other must not then
// rotate the fresh file away over the history: the newest max bytes of lines written, by
// either, are always in agent.log.1 and agent.log, each once.
func TestSharedLogfileKeepsItsHistory(t *testing.T) {
	const size, n = 4096, 3000
	path := filepath.Join(shortDir(t), "agent.log")
	a, b := openLogFile(path, size, nil), openLogFile(path, size, nil)
	defer a.Close()
	defer b.Close()
	lineLen := len(fmt.Sprintf("line %06d from one of two agents sharing the log\n", 0))
	keep := size/lineLen - 1
	for i := range n {
		w := a
		if i%3 != 0 { // uneven, so the two estimates of the file's size drift apart
			w = b
		}
		fmt.Fprintf(w, "line %06d from one of two agents sharing the log\n", i)
		if lost := missing(t, path, max(0, i+1-keep), i+1); len(lost) > 0 {
			t.Fatalf("after line %d: of the newest %d lines, %d are missing or doubled in agent.log.1 + agent.log (e.g. %v): one agent rotated the other's history away", i, keep, len(lost), lost[:min(5, len(lost))])
		}
	}
}

// missing returns the lines from..to-1 that are not exactly once in the logfile at path and
// its previous file.
func missing(t *testing.T, path string, from, to int) []int {
	t.Helper()
	var text string
	for _, p := range []string{path + ".1", path} {
		data, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		text += string(data)
	}
	seen := map[int]int{}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		i, err := strconv.Atoi(strings.Fields(line)[1])
		if err != nil {
			t.Fatalf("line %q in the log", line)
		}
		seen[i]++
	}
	var lost []int
	for i := from; i < to; i++ {
		if seen[i] != 1 {
			lost = append(lost, i)
		}
	}
	return lost
}
