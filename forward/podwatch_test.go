package forward

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// watchKubectl writes a kubectl stand-in: `get deploy/…` prints the selector, `get pods` runs
// pods (sh), and every call's arguments are appended to the calls file.
func watchKubectl(t *testing.T, pods string) (k kubectl, calls string) {
	dir := t.TempDir()
	calls = filepath.Join(dir, "calls")
	script := fmt.Sprintf(`#!/bin/sh
echo "$*" >> %s
case "$3 $4" in
"get deploy/dep") printf '{"app":"dep","tier":"db"}' ;;
"get pods") %s ;;
*) exit 1 ;;
esac
`, calls, pods)
	path := filepath.Join(dir, "kubectl")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return kubectl{path: path, context: "ctx", namespace: "ns"}, calls
}

type lines struct {
	mu sync.Mutex
	l  []string
}

func (l *lines) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.l = append(l.l, fmt.Sprintf(format, args...))
}

func (l *lines) String() string { return strings.Join(l.l, "\n") }

func TestWaitPodRunningWaitsForTheReplacement(t *testing.T) {
	// The old pod going, the new one pending, then running; the watch never ends by itself.
	k, calls := watchKubectl(t, `printf 'old Running 2026-12-01T10:00:00Z\nnew Pending <none>\n'; sleep 0.2; printf 'new Running <none>\n'; exec sleep 600`)
	c := &chain{req: Request{Deployment: "dep"}, k: k}
	var log lines
	if err := c.waitPodRunning(t.Context(), log.logf); err != nil {
		t.Fatalf("waitPodRunning = %v", err)
	}
	if !strings.Contains(log.String(), "pod new is running") {
		t.Errorf("log = %q, want the new pod named", log.String())
	}
	b, _ := os.ReadFile(calls)
	if want := "--context=ctx --namespace=ns get pods --selector=app=dep,tier=db --watch"; !strings.Contains(string(b), want) {
		t.Errorf("kubectl calls:\n%s\nwant %q", b, want)
	}
	// The selector is asked once per forward.
	if err := c.waitPodRunning(t.Context(), log.logf); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(calls); strings.Count(string(b), "get deploy/dep") != 1 {
		t.Errorf("kubectl calls:\n%s\nwant one get of the deployment", b)
	}
}

func TestWaitPodRunningGoesOnWhenItCannotWatch(t *testing.T) {
	k, _ := watchKubectl(t, `echo 'Error from server (Forbidden): pods is forbidden: User "u" cannot watch resource "pods"' >&2; exit 1`)
	c := &chain{req: Request{Deployment: "dep"}, k: k}
	var log lines
	if err := c.waitPodRunning(t.Context(), log.logf); err != nil {
		t.Fatalf("waitPodRunning with a watch that fails = %v, want nil (the attempt goes on)", err)
	}
	if !strings.Contains(log.String(), "not watching the pod") || !strings.Contains(log.String(), "cannot watch") {
		t.Errorf("log = %q, want why there is no watch", log.String())
	}
}
