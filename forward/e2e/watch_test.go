package e2e_test

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stateLine is one line of `rhizome ps -w --json`.
type stateLine struct {
	Name   string `json:"name"`
	State  string `json:"state"`
	Reason string `json:"reason"`
}

// TestWatchPodReplaced watches a live forward with `rhizome ps -w --json` while its pod is
// replaced, as in a rollout: the watcher sees it ready, then reconnecting with the reason,
// then ready again.
func TestWatchPodReplaced(t *testing.T) {
	u := newUser(t, 33376)
	u.mustForward()
	watch := exec.Command(binary, "ps", "-w", "--json")
	watch.Env = u.env
	out, err := watch.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	watch.Stderr = &stderr
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	// Buffered beyond what a test can print, so the reader never blocks and ends with the
	// pipe; a line that is no JSON comes through as its text in State, failing the test.
	lines := make(chan stateLine, 1<<12)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var l stateLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				l = stateLine{State: "not JSON: " + sc.Text()}
			}
			lines <- l
		}
	}()
	defer func() {
		_ = watch.Process.Signal(syscall.SIGINT)
		for range lines { // the pipe's reads complete before Wait
		}
		_ = watch.Wait()
	}()
	var seen []string
	next := func(want string) stateLine {
		t.Helper()
		deadline := time.After(90 * time.Second) // a deadman: a new pod takes about 10 s
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("ps -w ended (stderr %q) after %q, want %s", stderr.String(), seen, want)
				}
				seen = append(seen, l.State+"("+l.Reason+")")
				if strings.HasPrefix(l.State, "not JSON") {
					t.Fatalf("ps -w --json printed a line that is %s", l.State)
				}
				if l.Name == "na-prod/bookkeeper" && l.State == want {
					return l
				}
			case <-deadline:
				t.Fatalf("ps -w printed %q, never %s", seen, want)
			}
		}
	}
	next("ready") // the table's line: the watch is on
	if err := cluster.ReplacePod(t.Context()); err != nil {
		t.Fatal(err)
	}
	if l := next("reconnecting"); l.Reason == "" {
		t.Errorf("reconnecting without a reason: %+v", l)
	}
	next("ready")
	t.Logf("ps -w saw %s", strings.Join(seen, " → "))
}
